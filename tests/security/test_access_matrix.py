"""Access control over every endpoint and method for anonymous, owner, other user,
suspended user and moderator: nobody reads another's private state or changes what
is not theirs (BOLA), and mass-assigned fields are ignored."""

import pytest
from django.utils import timezone

from accounts.models import User
from activity.graph.services import block_create
from tests.factories import CommentFactory, UserFactory, VideoFactory
from tests.helpers.api import client_for

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "owner", "other", "suspended", "moderator")


@pytest.fixture
def world(api_client):
    owner = UserFactory(username="owner")
    other = UserFactory(username="other")
    moderator = UserFactory(username="mod", is_staff=True)
    suspended = UserFactory(username="gone")
    public = VideoFactory(owner=owner)
    private = VideoFactory(owner=owner, status="processing", published_at=None)
    comment = CommentFactory(video=public, author=owner)
    clients = {
        "anonymous": api_client,
        "owner": client_for(owner),
        "other": client_for(other),
        "moderator": client_for(moderator),
        "suspended": client_for(suspended),
    }
    suspended.suspended_at = timezone.now()
    suspended.save()
    return {"owner": owner, "public": public, "private": private, "comment": comment, "clients": clients}


def call(client, method: str, path: str, body=None):
    return getattr(client, method)(path, body, format="json") if body is not None else getattr(client, method)(path)


# (method, path template, body, {role: expected status}) — the private video is the owner's
# unfinished upload; the comment is the owner's comment on their public video.
MATRIX = [
    ("get", "/api/v1/videos/{private}", None, {"anonymous": 404, "owner": 200, "other": 404, "moderator": 404}),
    ("get", "/api/v1/videos/{public}", None, {"anonymous": 200, "owner": 200, "other": 200, "moderator": 200}),
    ("patch", "/api/v1/videos/{public}", {"caption": "x"}, {"anonymous": 401, "owner": 200, "other": 404}),
    ("delete", "/api/v1/videos/{private}", None, {"anonymous": 401, "other": 404, "moderator": 404}),
    ("post", "/api/v1/videos/{private}/complete", None, {"anonymous": 401, "other": 404, "moderator": 404}),
    ("get", "/api/v1/me", None, {"anonymous": 401, "owner": 200}),
    ("get", "/api/v1/me/videos", None, {"anonymous": 401, "owner": 200}),
    ("get", "/api/v1/me/likes", None, {"anonymous": 401, "owner": 200}),
    ("get", "/api/v1/me/favorites", None, {"anonymous": 401, "owner": 200}),
    ("get", "/api/v1/feed", None, {"anonymous": 401, "owner": 200}),
    ("put", "/api/v1/videos/{private}/like", None, {"anonymous": 401, "owner": 404, "other": 404}),
    ("put", "/api/v1/videos/{public}/like", None, {"anonymous": 401, "other": 200}),
    ("post", "/api/v1/videos/{private}/comments", {"text": "hi"}, {"owner": 404, "other": 404}),
    ("get", "/api/v1/videos/{private}/comments", None, {"anonymous": 404, "other": 404}),
    ("delete", "/api/v1/comments/{comment}", None, {"anonymous": 401, "other": 403, "moderator": 403}),
    ("put", "/api/v1/users/owner/follow", None, {"anonymous": 401, "owner": 400, "other": 200}),
    ("post", "/api/v1/videos/{public}/report", {"reason": "spam"}, {"anonymous": 401, "other": 201}),
    ("post", "/api/v1/videos", {"caption": "c", "content_type": "video/mp4", "size_bytes": 10}, {"anonymous": 401}),
    ("get", "/api/v1/notifications", None, {"anonymous": 401, "owner": 200, "other": 200}),
    ("get", "/api/v1/notifications/unread-count", None, {"anonymous": 401, "owner": 200}),
    ("post", "/api/v1/notifications/read", {"all": True}, {"anonymous": 401, "owner": 204}),
    ("put", "/api/v1/users/owner/block", None, {"anonymous": 401, "owner": 400, "other": 200}),
    ("delete", "/api/v1/users/owner/block", None, {"anonymous": 401, "owner": 400, "other": 204}),
    ("put", "/api/v1/users/owner/mute", None, {"anonymous": 401, "owner": 400, "other": 200}),
    ("delete", "/api/v1/users/owner/mute", None, {"anonymous": 401, "owner": 400, "other": 204}),
    ("get", "/api/v1/me/blocks", None, {"anonymous": 401, "owner": 200}),
    ("get", "/api/v1/me/mutes", None, {"anonymous": 401, "owner": 200}),
]


@pytest.mark.parametrize(("method", "template", "body", "expected"), MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
def test_access_matrix(world, method, template, body, expected):
    path = template.format(private=world["private"].id, public=world["public"].id, comment=world["comment"].id)
    for role, status in expected.items():
        response = call(world["clients"][role], method, path, body)
        assert response.status_code == status, f"{role} {method.upper()} {path}: {response.content[:300]}"
        if status >= 400:
            assert set(response.json()["error"]) == {"code", "message", "fields"}


@pytest.mark.parametrize(
    ("method", "template", "body"),
    [(m, p, b) for m, p, b, _ in MATRIX if m != "get"] + [("get", "/api/v1/me", None), ("get", "/api/v1/feed", None)],
)
def test_a_suspended_user_can_neither_write_nor_read_private_state(world, method, template, body):
    path = template.format(private=world["private"].id, public=world["public"].id, comment=world["comment"].id)
    assert call(world["clients"]["suspended"], method, path, body).status_code == 401


def test_mass_assignment_of_status_owner_and_counts_is_ignored(world):
    owner_client, other = world["clients"]["owner"], UserFactory()
    private = world["private"]
    response = owner_client.patch(
        f"/api/v1/videos/{private.id}",
        {"caption": "new", "status": "ready", "moderation": "visible", "owner": other.pk, "likes_count": 999},
        format="json",
    )
    assert response.status_code == 200
    private.refresh_from_db()
    assert (private.caption, private.status, private.owner_id, private.likes_count) == (
        "new",
        "processing",
        world["owner"].pk,
        0,
    )
    created = owner_client.post(
        "/api/v1/videos",
        {"caption": "c", "content_type": "video/mp4", "size_bytes": 10, "status": "ready", "owner": other.pk},
        format="json",
    )
    assert created.status_code == 201
    assert created.json()["status"] == "awaiting_upload"
    me = owner_client.patch("/api/v1/me", {"is_staff": True, "followers_count": 5}, format="json")
    assert me.status_code == 200
    world["owner"].refresh_from_db()
    assert (world["owner"].is_staff, world["owner"].followers_count) == (False, 0)


def test_the_video_owner_may_delete_a_comment_on_their_video_but_not_elsewhere(world):
    commenter = UserFactory()
    comment = CommentFactory(video=world["public"], author=commenter)
    elsewhere = CommentFactory(author=commenter)
    owner_client = world["clients"]["owner"]
    assert owner_client.delete(f"/api/v1/comments/{elsewhere.id}").status_code == 403
    assert owner_client.delete(f"/api/v1/comments/{comment.id}").status_code == 204


# What a user the owner blocked gets on the owner's things: everything is "not found".
BLOCKED_MATRIX = [
    ("get", "/api/v1/users/owner", None),
    ("get", "/api/v1/users/owner/videos", None),
    ("get", "/api/v1/users/owner/followers", None),
    ("get", "/api/v1/users/owner/following", None),
    ("get", "/api/v1/videos/{public}", None),
    ("get", "/api/v1/videos/{public}/comments", None),
    ("put", "/api/v1/videos/{public}/like", None),
    ("put", "/api/v1/videos/{public}/favorite", None),
    ("post", "/api/v1/videos/{public}/comments", {"text": "hi"}),
    ("put", "/api/v1/users/owner/follow", None),
]


@pytest.mark.parametrize(("method", "template", "body"), BLOCKED_MATRIX, ids=[f"{m} {p}" for m, p, _ in BLOCKED_MATRIX])
def test_a_blocked_user_gets_404_on_everything_of_the_blocker(world, method, template, body):
    block_create(blocker=world["owner"], blocked=User.objects.get(username="other"))
    path = template.format(public=world["public"].id)
    response = call(world["clients"]["other"], method, path, body)
    assert response.status_code == 404, response.content
    assert set(response.json()["error"]) == {"code", "message", "fields"}
    assert call(world["clients"]["moderator"], "get", "/api/v1/users/owner").status_code == 200
