"""Comments: create with validation, list with cursor pagination, delete by author or video owner."""

import pytest
from django.conf import settings

from activity.engagement.counters import counter_flush, pending_deltas
from activity.models import Comment, CommentState
from tests.factories import CommentFactory, VideoFactory
from tests.helpers.api import assert_error
from videos.models import Moderation

pytestmark = pytest.mark.django_db


def test_comment_is_created_stripped_and_counted(auth_client, user, video, run_on_commit):
    with run_on_commit():
        response = auth_client.post(f"/api/v1/videos/{video.id}/comments", {"text": "  nice clip \n"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "text", "author", "created_at", "video_id"}
    assert body["text"] == "nice clip"
    assert body["author"] == {"username": user.username, "display_name": user.display_name}
    assert body["video_id"] == str(video.id)
    assert pending_deltas(entity="video", object_ids=[video.id]) == {str(video.id): {"comments": 1}}
    counter_flush()
    video.refresh_from_db()
    assert video.comments_count == 1


@pytest.mark.parametrize(
    "payload",
    [{}, {"text": ""}, {"text": "   \n\t "}, {"text": "x" * (settings.COMMENT_MAX_LENGTH + 1)}, {"text": None}],
    ids=["missing", "empty", "whitespace-only", "too-long", "null"],
)
def test_invalid_comment_text_is_a_400_on_the_text_field(auth_client, video, payload):
    error = assert_error(auth_client.post(f"/api/v1/videos/{video.id}/comments", payload, format="json"), 400)
    assert "text" in error["fields"]
    assert not Comment.objects.exists()


def test_comment_of_exactly_the_maximum_length_after_stripping_is_accepted(auth_client, video):
    text = " " + "x" * settings.COMMENT_MAX_LENGTH + " "
    response = auth_client.post(f"/api/v1/videos/{video.id}/comments", {"text": text}, format="json")
    assert response.status_code == 201


def test_comments_list_newest_first_by_default_and_oldest_on_request(api_client, video):
    comments = [CommentFactory(video=video) for _ in range(3)]
    newest = api_client.get(f"/api/v1/videos/{video.id}/comments").json()
    assert [item["id"] for item in newest["items"]] == [c.id for c in reversed(comments)]
    oldest = api_client.get(f"/api/v1/videos/{video.id}/comments?order=oldest").json()
    assert [item["id"] for item in oldest["items"]] == [c.id for c in comments]
    assert_error(api_client.get(f"/api/v1/videos/{video.id}/comments?order=random"), 400, "invalid")


@pytest.mark.parametrize("order", ["newest", "oldest"])
def test_comment_pages_stay_stable_while_new_comments_arrive(api_client, video, order):
    early = [CommentFactory(video=video) for _ in range(3)]
    page1 = api_client.get(f"/api/v1/videos/{video.id}/comments?limit=2&order={order}").json()
    for _ in range(2):
        CommentFactory(video=video)
    page2 = api_client.get(
        f"/api/v1/videos/{video.id}/comments?limit=2&order={order}&cursor={page1['next_cursor']}"
    ).json()
    seen = [item["id"] for item in page1["items"] + page2["items"]]
    if order == "newest":
        assert seen == [c.id for c in reversed(early)]
        assert page2["next_cursor"] is None
    else:
        # Oldest first: the new comments come after the early ones, once each.
        page3 = api_client.get(
            f"/api/v1/videos/{video.id}/comments?limit=2&order=oldest&cursor={page2['next_cursor']}"
        ).json()
        seen += [item["id"] for item in page3["items"]]
        assert seen == sorted(Comment.objects.values_list("id", flat=True))


def test_removed_comments_are_not_listed(api_client, video):
    kept = CommentFactory(video=video)
    CommentFactory(video=video, state=CommentState.REMOVED)
    body = api_client.get(f"/api/v1/videos/{video.id}/comments").json()
    assert [item["id"] for item in body["items"]] == [kept.id]


@pytest.mark.parametrize("moderation", [Moderation.HIDDEN, Moderation.REMOVED])
def test_comments_of_hidden_or_removed_videos_are_a_404(api_client, auth_client, moderation):
    video = VideoFactory(moderation=moderation)
    CommentFactory(video=video)
    assert_error(api_client.get(f"/api/v1/videos/{video.id}/comments"), 404, "not_found")
    assert_error(auth_client.post(f"/api/v1/videos/{video.id}/comments", {"text": "hi"}, format="json"), 404)


def test_comments_list_runs_a_fixed_number_of_queries(api_client, video, django_assert_max_num_queries):
    for _ in range(30):
        CommentFactory(video=video)
    with django_assert_max_num_queries(2):
        response = api_client.get(f"/api/v1/videos/{video.id}/comments?limit=30")
    assert len(response.json()["items"]) == 30


def test_author_can_delete_their_comment_and_the_count_drops(auth_client, user, video, run_on_commit):
    comment = CommentFactory(video=video, author=user)
    with run_on_commit():
        response = auth_client.delete(f"/api/v1/comments/{comment.id}")
    assert response.status_code == 204
    assert not Comment.objects.exists()
    assert pending_deltas(entity="video", object_ids=[video.id]) == {str(video.id): {"comments": -1}}
    assert_error(auth_client.delete(f"/api/v1/comments/{comment.id}"), 404, "not_found")


def test_video_owner_can_delete_a_comment_but_another_user_cannot(login, make_user):
    owner, author, stranger = make_user(), make_user(), make_user()
    comment = CommentFactory(video=VideoFactory(owner=owner), author=author)
    assert_error(login(stranger).delete(f"/api/v1/comments/{comment.id}"), 403, "permission_denied")
    assert Comment.objects.filter(pk=comment.pk).exists()
    assert login(owner).delete(f"/api/v1/comments/{comment.id}").status_code == 204
    assert not Comment.objects.filter(pk=comment.pk).exists()


def test_deleting_an_unknown_comment_is_a_404(auth_client):
    assert_error(auth_client.delete("/api/v1/comments/999999"), 404, "not_found")
    assert_error(auth_client.delete("/api/v1/comments/not-a-number"), 404, "not_found")
