"""Reading videos: the card, visibility rules, lists with keyset pages and bounded queries."""

import re
import time
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import UserFactory
from tests.helpers.api import client_for
from tests.helpers.videos import make_ready_video, upload
from tiktok.media_urls import cdn_token
from videos.models import Moderation, Video, VideoStatus
from videos.selectors import VIDEO_CARD_KEY, video_cards, video_cards_invalidate

pytestmark = pytest.mark.django_db

CARD_KEYS = {
    "id", "status", "moderation", "caption", "creator", "hls_url", "poster_url", "duration", "width", "height",
    "published_at", "counts", "viewer",
}  # fmt: skip


def test_anyone_reads_a_public_video_card(api_client, user):
    video = make_ready_video(user, caption="hi there")
    response = api_client.get(f"/api/v1/videos/{video.id}")
    assert response.status_code == 200
    card = response.json()
    assert set(card) == CARD_KEYS  # no failure_reason for others
    assert card["creator"] == {"username": user.username, "display_name": user.display_name, "avatar_url": None}
    assert card["counts"] == {"likes": 0, "favorites": 0, "comments": 0, "views": 0}
    assert card["viewer"] is None
    assert card["hls_url"].startswith("http") and video.hls_master_key in card["hls_url"]


def test_the_cdn_serves_playback_urls_with_a_token_for_the_videos_prefix(api_client, user, settings):
    settings.CDN_BASE_URL = "https://cdn.example.com/media/bucket/"
    settings.CDN_TOKEN_SECRET = "s3cret"
    video = make_ready_video(user)
    card = api_client.get(f"/api/v1/videos/{video.id}").json()
    for url, key in ((card["hls_url"], video.hls_master_key), (card["poster_url"], video.poster.name)):
        match = re.fullmatch(r"https://cdn\.example\.com/media/bucket/t/([A-Za-z0-9_-]{22})/(\d+)/(.+)", url)
        assert match and match[3] == key
        expires = int(match[2])
        assert time.time() < expires <= time.time() + settings.VIDEO_PLAYBACK_URL_EXPIRY_SECONDS + 60
        assert match[1] == cdn_token(prefix=f"processed/{video.id}/", expires=expires, secret="s3cret")


def test_without_a_cdn_hls_url_is_the_apis_playlist_and_the_poster_is_presigned(api_client, user, settings):
    settings.CDN_BASE_URL = ""
    settings.API_PUBLIC_BASE_URL = "https://api.example.com"
    video = make_ready_video(user)
    card = api_client.get(f"/api/v1/videos/{video.id}").json()
    assert card["hls_url"] == f"https://api.example.com/api/v1/videos/{video.id}/playback/master.m3u8"
    assert "X-Amz-Signature=" in card["poster_url"] and video.poster.name in card["poster_url"]


def test_owner_sees_own_unfinished_video_and_others_get_404(auth_client, api_client, clips):
    video_id = upload(auth_client, clips.small)
    own = auth_client.get(f"/api/v1/videos/{video_id}")
    assert own.status_code == 200
    assert own.json()["status"] == "awaiting_upload"
    assert own.json()["failure_reason"] == ""
    assert own.json()["viewer"] == {"liked": False, "favorited": False, "following": False}
    assert api_client.get(f"/api/v1/videos/{video_id}").status_code == 404
    assert client_for(UserFactory()).get(f"/api/v1/videos/{video_id}").status_code == 404


@pytest.mark.parametrize(
    "change", [{"moderation": Moderation.HIDDEN}, {"moderation": Moderation.REMOVED}, {"status": VideoStatus.FAILED}]
)
def test_hidden_removed_or_failed_videos_are_not_public(api_client, user, change):
    video = make_ready_video(user, **change)
    assert api_client.get(f"/api/v1/videos/{video.id}").status_code == 404
    assert api_client.get(f"/api/v1/users/{user.username}/videos").json()["items"] == []


def test_videos_of_a_suspended_creator_are_not_public(api_client, user):
    video = make_ready_video(user)
    user.suspended_at = timezone.now()
    user.save()
    assert api_client.get(f"/api/v1/videos/{video.id}").status_code == 404
    assert api_client.get(f"/api/v1/users/{user.username}/videos").status_code == 404  # the profile is gone too


def test_patch_changes_the_caption_and_ignores_other_fields(auth_client, user):
    video = make_ready_video(user, caption="old")
    response = auth_client.patch(
        f"/api/v1/videos/{video.id}",
        {"caption": "  new caption ", "status": "failed", "owner": 999, "likes_count": 100, "moderation": "hidden"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["caption"] == "new caption"
    video.refresh_from_db()
    assert (video.caption, video.status, video.owner_id, video.likes_count, video.moderation) == (
        "new caption", VideoStatus.READY, user.pk, 0, Moderation.VISIBLE,
    )  # fmt: skip


def test_patch_rejects_a_caption_over_the_limit(auth_client, user, settings):
    video = make_ready_video(user, caption="old")
    response = auth_client.patch(f"/api/v1/videos/{video.id}", {"caption": "x" * 3000}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "caption_too_long"


def test_writes_need_authentication(api_client, user):
    video = make_ready_video(user)
    assert api_client.patch(f"/api/v1/videos/{video.id}", {"caption": "x"}, format="json").status_code == 401
    assert api_client.delete(f"/api/v1/videos/{video.id}").status_code == 401
    assert api_client.get("/api/v1/me/videos").status_code == 401


def test_user_videos_are_paginated_newest_published_first(api_client, user):
    now = timezone.now()
    videos = [make_ready_video(user, published_at=now - timedelta(minutes=i)) for i in range(5)]
    make_ready_video(UserFactory())  # someone else's
    seen = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = api_client.get(f"/api/v1/users/{user.username.upper()}/videos", params).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [str(video.id) for video in videos]


def test_user_videos_of_an_unknown_user_is_404_and_bad_params_are_400(api_client):
    assert api_client.get("/api/v1/users/nobody-here/videos").status_code == 404
    UserFactory(username="somebody")
    assert api_client.get("/api/v1/users/somebody/videos", {"limit": 0}).status_code == 400
    response = api_client.get("/api/v1/users/somebody/videos", {"cursor": "!!"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_cursor"


def test_user_videos_list_runs_a_bounded_number_of_queries(user, django_assert_max_num_queries):
    viewer = UserFactory()
    client = client_for(viewer)
    for _ in range(12):
        make_ready_video(user)
    # Token lookup, user, one page of videos with their owners, viewer flags (3).
    with django_assert_max_num_queries(8):
        response = client.get(f"/api/v1/users/{user.username}/videos", {"limit": 12})
    assert response.status_code == 200
    assert len(response.json()["items"]) == 12


def test_my_videos_lists_every_state_newest_created_first(auth_client, user, clips):
    ready = make_ready_video(user)
    failed = make_ready_video(user, status=VideoStatus.FAILED, failure_reason="Not a video file.")
    awaiting_id = upload(auth_client, clips.small)
    make_ready_video(UserFactory())
    page = auth_client.get("/api/v1/me/videos").json()
    assert [item["id"] for item in page["items"]] == [awaiting_id, str(failed.id), str(ready.id)]
    assert page["items"][1]["failure_reason"] == "Not a video file."
    assert page["next_cursor"] is None


def test_cards_are_cached_and_invalidated(user):
    from django.core.cache import caches

    video = make_ready_video(user, caption="first")
    assert video_cards(video_ids=[video.id])[0]["caption"] == "first"
    assert caches["default"].get(VIDEO_CARD_KEY.format(video_id=video.id))["caption"] == "first"
    Video.objects.filter(id=video.id).update(caption="second")
    assert video_cards(video_ids=[video.id])[0]["caption"] == "first"  # served from the cache
    video_cards_invalidate([video.id])
    assert video_cards(video_ids=[str(video.id)])[0]["caption"] == "second"
    # Until the replicas must have caught up, what is read is not cached again.
    assert caches["default"].get(VIDEO_CARD_KEY.format(video_id=video.id)) == "invalidated"


def test_video_cards_keep_order_and_skip_unknown_ids(user, django_assert_max_num_queries):
    first, second = make_ready_video(user), make_ready_video(user)
    with django_assert_max_num_queries(1):
        cards = video_cards(video_ids=[second.id, "junk", uuid.uuid4(), first.id])
    assert [card["id"] for card in cards] == [str(second.id), str(first.id)]
    with django_assert_max_num_queries(0):  # all cached now
        assert len(video_cards(video_ids=[first.id, second.id])) == 2
