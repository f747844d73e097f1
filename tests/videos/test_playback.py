"""Playback from a private bucket: a player following ``hls_url`` through the CDN stand-in
(nginx with secure_link tokens, cache and purge, started by bin/stack) or, without a CDN,
through the API's playlists with presigned children; takedowns stop cached copies.

Real clips, ffmpeg, the S3 server and nginx: nothing here is mocked.
"""

from __future__ import annotations

import re
import time

import pytest
import requests
from django.conf import settings

from tests.helpers.player import authorised, play, presigned, valid_cdn_url
from tests.helpers.stack import wait_for_replica_to_catch_up
from tests.helpers.videos import upload
from tiktok import media_urls
from videos.models import Moderation, Video
from videos.services import video_set_moderation

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _cdn_mode():
    if not settings.CDN_BASE_URL:
        pytest.skip("the CDN stand-in is not configured (run through `make test`)")


def ready_card(client, path, complete) -> dict:
    video_id = upload(client, path)
    complete(client, video_id)
    card = client.get(f"/api/v1/videos/{video_id}").json()
    assert card["status"] == "ready", card
    return card


def status_of(url: str) -> int:
    return requests.get(url, timeout=10).status_code


def test_a_player_plays_every_rendition_through_the_cdn(auth_client, api_client, clips, complete):
    card = ready_card(auth_client, clips.hd, complete)
    anonymous = api_client.get(f"/api/v1/videos/{card['id']}").json()
    assert valid_cdn_url(anonymous["hls_url"]) and valid_cdn_url(anonymous["poster_url"])
    playback = play(anonymous["hls_url"])
    assert len(playback.playlists) == 3  # master + 360p + 720p
    assert playback.segments and playback.segment_bytes > 10_000
    # Every child resolved from the playlists carries the token of the video's prefix.
    assert all(valid_cdn_url(url) for url in playback.playlists + playback.segments)
    assert requests.get(anonymous["poster_url"], timeout=10).headers["Content-Type"] == "image/jpeg"


def test_the_bucket_itself_refuses_anonymous_reads(auth_client, clips, complete):
    card = ready_card(auth_client, clips.small, complete)
    segment = play(card["hls_url"]).segments[0]
    key = re.search(r"/(processed/.+)$", segment)[1]
    assert status_of(f"{settings.AWS_S3_ENDPOINT_URL}/{settings.AWS_STORAGE_BUCKET_NAME}/{key}") == 403


def test_the_cdn_refuses_missing_altered_expired_or_foreign_tokens(auth_client, clips, complete):
    card = ready_card(auth_client, clips.small, complete)
    other = ready_card(auth_client, clips.medium, complete)
    segment = play(card["hls_url"]).segments[0]
    base = settings.CDN_BASE_URL.rstrip("/")
    match = re.search(r"/t/(?P<token>[^/]+)/(?P<expires>\d+)/(?P<key>.+)$", segment)
    token, expires, key = match["token"], int(match["expires"]), match["key"]
    flipped = ("A" if token[0] != "A" else "B") + token[1:]
    past = int(time.time()) - 5
    past_token = media_urls.cdn_token(prefix=f"processed/{card['id']}/", expires=past, secret=settings.CDN_TOKEN_SECRET)
    other_token = re.search(r"/t/([^/]+)/(\d+)/", other["hls_url"])
    refused = {
        "no token": f"{base}/{key}",
        "token removed": f"{base}/t//{expires}/{key}",
        "token altered": f"{base}/t/{flipped}/{expires}/{key}",
        "expiry extended": f"{base}/t/{token}/{expires + 3600}/{key}",
        "expired": f"{base}/t/{past_token}/{past}/{key}",
        "another video's token": f"{base}/t/{other_token[1]}/{other_token[2]}/{key}",
        "original outside the prefix": f"{base}/t/{token}/{expires}/originals/1/{card['id']}",
    }
    assert {name: status_of(url) for name, url in refused.items()} == dict.fromkeys(refused, 403)
    assert status_of(segment) == 200


def test_every_media_url_handed_to_clients_is_signed(auth_client, api_client, user, clips, complete):
    card = ready_card(auth_client, clips.small, complete)
    user.avatar = f"avatars/{user.pk}/x-320.jpg"
    user.save(update_fields=["avatar"])
    page = api_client.get(f"/api/v1/users/{user.username}/videos").json()
    urls = [card["hls_url"], card["poster_url"]]
    for item in page["items"]:
        urls += [item["hls_url"], item["poster_url"], item["creator"]["avatar_url"]]
    assert all(authorised(url) for url in urls), urls


@pytest.mark.parametrize("takedown", ["hidden", "removed", "owner_delete"])
def test_a_takedown_refuses_a_cached_segment_within_seconds(
    auth_client, clips, complete, django_capture_on_commit_callbacks, takedown
):
    card = ready_card(auth_client, clips.small, complete)
    playback = play(card["hls_url"])
    segment = playback.segments[0]
    assert requests.get(segment, timeout=10).headers["X-Cache-Status"] == "HIT"  # served from the cache

    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):  # the quarantine/delete tasks, inline
        if takedown == "owner_delete":
            assert auth_client.delete(f"/api/v1/videos/{card['id']}").status_code == 204
        else:
            video_set_moderation(video_id=card["id"], moderation=takedown, final=True)
    refused = [status_of(url) for url in [*playback.playlists, *playback.segments]]
    assert time.monotonic() - started < 5
    assert set(refused) <= {403, 404}, refused
    # And no new URL is issued: the card is gone for everyone, even its owner's copy has none.
    if takedown != "owner_delete":
        own = auth_client.get(f"/api/v1/videos/{card['id']}").json()
        assert own["hls_url"] is None and own["poster_url"] is None


def test_a_restored_video_plays_again(auth_client, clips, complete, django_capture_on_commit_callbacks):
    card = ready_card(auth_client, clips.small, complete)
    with django_capture_on_commit_callbacks(execute=True):
        video_set_moderation(video_id=card["id"], moderation=Moderation.HIDDEN, final=True)
    assert status_of(card["hls_url"]) in (403, 404)
    with django_capture_on_commit_callbacks(execute=True):
        video_set_moderation(video_id=card["id"], moderation=Moderation.VISIBLE, final=True)
    play(auth_client.get(f"/api/v1/videos/{card['id']}").json()["hls_url"])


# --- Direct mode: no CDN ----------------------------------------------------------------


@pytest.fixture
def direct_mode(settings, live_server):
    settings.CDN_BASE_URL = ""
    settings.CDN_PURGE_BACKEND = "none"
    settings.API_PUBLIC_BASE_URL = live_server.url
    return live_server


@pytest.mark.django_db(transaction=True)
def test_without_a_cdn_the_api_serves_playlists_with_presigned_children(
    direct_mode, auth_client, api_client, clips, complete
):
    card = ready_card(auth_client, clips.hd, complete)
    assert card["hls_url"] == f"{direct_mode.url}/api/v1/videos/{card['id']}/playback/master.m3u8"
    assert presigned(card["poster_url"])
    wait_for_replica_to_catch_up()  # the live server's anonymous reads may go to the replica
    playback = play(card["hls_url"])
    assert len(playback.playlists) == 3
    assert playback.segments and all(presigned(url) for url in playback.segments)
    # A segment without its signature is refused by the private bucket.
    assert status_of(playback.segments[0].split("?", 1)[0]) == 403
    variant = requests.get(playback.playlists[1], timeout=10)
    assert variant.headers["Content-Type"] == "application/vnd.apple.mpegurl"
    missing = requests.get(f"{direct_mode.url}/api/v1/videos/{card['id']}/playback/9999p/index.m3u8", timeout=10)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"

    Video.objects.filter(id=card["id"]).update(moderation=Moderation.HIDDEN)
    wait_for_replica_to_catch_up()
    assert status_of(card["hls_url"]) == 404  # no playlists for a video taken down
