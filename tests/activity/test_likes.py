"""Likes and favorites: idempotent PUT/DELETE, visibility, the viewer's lists."""

import uuid

import pytest

from activity.engagement.counters import counter_flush, pending_deltas
from activity.models import Favorite, Like
from tests.factories import VideoFactory
from tests.helpers.api import assert_error
from videos.models import Moderation, VideoStatus

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("relation", "model", "flag"), [("like", Like, "liked"), ("favorite", Favorite, "favorited")])
def test_put_is_idempotent_and_counts_once(auth_client, user, video, run_on_commit, relation, model, flag):
    with run_on_commit():
        responses = [auth_client.put(f"/api/v1/videos/{video.id}/{relation}") for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert all(r.json() == {flag: True} for r in responses)
    assert model.objects.filter(user=user, video=video).count() == 1
    counter = f"{relation}s"
    assert pending_deltas(entity="video", object_ids=[video.id]) == {str(video.id): {counter: 1}}
    counter_flush()
    video.refresh_from_db()
    assert getattr(video, f"{counter}_count") == 1


@pytest.mark.parametrize(("relation", "model"), [("like", Like), ("favorite", Favorite)])
def test_delete_is_idempotent_and_counts_once(auth_client, user, video, run_on_commit, relation, model):
    with run_on_commit():
        auth_client.put(f"/api/v1/videos/{video.id}/{relation}")
        responses = [auth_client.delete(f"/api/v1/videos/{video.id}/{relation}") for _ in range(3)]
    assert [r.status_code for r in responses] == [204, 204, 204]
    assert not model.objects.exists()
    assert pending_deltas(entity="video", object_ids=[video.id]) == {str(video.id): {f"{relation}s": 0}}


def test_unlike_of_a_video_never_liked_is_a_204_no_op(auth_client, video, run_on_commit):
    with run_on_commit():
        response = auth_client.delete(f"/api/v1/videos/{video.id}/like")
    assert response.status_code == 204
    assert pending_deltas(entity="video", object_ids=[video.id]) == {}


@pytest.mark.parametrize("relation", ["like", "favorite"])
@pytest.mark.parametrize("method", ["put", "delete"])
def test_malformed_or_unknown_video_id_is_a_404(auth_client, relation, method):
    call = getattr(auth_client, method)
    assert_error(call(f"/api/v1/videos/not-a-uuid/{relation}"), 404, "not_found")
    assert_error(call(f"/api/v1/videos/{uuid.uuid4()}/{relation}"), 404, "not_found")


@pytest.mark.parametrize(
    "state",
    [{"moderation": Moderation.HIDDEN}, {"moderation": Moderation.REMOVED}, {"status": VideoStatus.PROCESSING}],
)
def test_hidden_removed_or_unfinished_video_cannot_be_liked(auth_client, state):
    video = VideoFactory(**state)
    assert_error(auth_client.put(f"/api/v1/videos/{video.id}/like"), 404, "not_found")
    assert_error(auth_client.put(f"/api/v1/videos/{video.id}/favorite"), 404, "not_found")
    assert not Like.objects.exists()


def test_likes_require_authentication(api_client, video):
    assert_error(api_client.put(f"/api/v1/videos/{video.id}/like"), 401)


def test_my_likes_lists_cards_newest_like_first_with_viewer_flags(auth_client, user):
    videos = VideoFactory.create_batch(3)
    for video in videos:
        auth_client.put(f"/api/v1/videos/{video.id}/like")
    auth_client.put(f"/api/v1/videos/{videos[0].id}/favorite")
    body = auth_client.get("/api/v1/me/likes").json()
    assert [card["id"] for card in body["items"]] == [str(v.id) for v in reversed(videos)]
    assert body["items"][0]["viewer"]["liked"] is True
    assert body["items"][2]["viewer"]["favorited"] is True
    assert body["next_cursor"] is None

    favorites = auth_client.get("/api/v1/me/favorites").json()
    assert [card["id"] for card in favorites["items"]] == [str(videos[0].id)]


def test_my_likes_skip_videos_hidden_after_the_like(auth_client):
    kept, hidden = VideoFactory.create_batch(2)
    auth_client.put(f"/api/v1/videos/{kept.id}/like")
    auth_client.put(f"/api/v1/videos/{hidden.id}/like")
    hidden.moderation = Moderation.HIDDEN
    hidden.save()
    body = auth_client.get("/api/v1/me/likes").json()
    assert [card["id"] for card in body["items"]] == [str(kept.id)]


def test_my_likes_pages_stay_stable_while_new_likes_arrive(auth_client):
    early = VideoFactory.create_batch(3)
    for video in early:
        auth_client.put(f"/api/v1/videos/{video.id}/like")
    page1 = auth_client.get("/api/v1/me/likes?limit=2").json()
    for video in VideoFactory.create_batch(2):
        auth_client.put(f"/api/v1/videos/{video.id}/like")
    page2 = auth_client.get(f"/api/v1/me/likes?limit=2&cursor={page1['next_cursor']}").json()
    assert [card["id"] for card in page1["items"] + page2["items"]] == [str(v.id) for v in reversed(early)]
    assert page2["next_cursor"] is None


def test_my_likes_run_a_fixed_number_of_queries(auth_client, user, django_assert_max_num_queries):
    for video in VideoFactory.create_batch(2):
        Like.objects.create(user=user, video=video)
    with django_assert_max_num_queries(6):
        small = auth_client.get("/api/v1/me/likes?limit=50")
    for video in VideoFactory.create_batch(20):
        Like.objects.create(user=user, video=video)
    with django_assert_max_num_queries(6):
        large = auth_client.get("/api/v1/me/likes?limit=50")
    assert len(small.json()["items"]) == 2
    assert len(large.json()["items"]) == 22


def test_my_likes_require_authentication(api_client):
    assert_error(api_client.get("/api/v1/me/likes"), 401)
    assert_error(api_client.get("/api/v1/me/favorites"), 401)
