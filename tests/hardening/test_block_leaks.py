"""A blocked user can do nothing with the blocker's videos, except report them."""

import pytest

from activity.graph.services import block_create
from activity.models import View
from tests.factories import UserFactory, VideoFactory
from tests.helpers.api import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def blocked_pair(django_capture_on_commit_callbacks):
    blocker, blocked = UserFactory(username="blocker"), UserFactory(username="blocked")
    video = VideoFactory(owner=blocker)
    with django_capture_on_commit_callbacks(execute=True):
        block_create(blocker=blocker, blocked=blocked)
    return blocker, blocked, video


def test_blocked_user_cannot_record_a_view_on_the_blockers_video(blocked_pair):
    _, blocked, video = blocked_pair
    response = client_for(blocked).post(f"/api/v1/videos/{video.id}/view", {"watched_ms": 3000}, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert not View.objects.filter(video=video).exists()


def test_the_blocker_cannot_record_a_view_on_the_blocked_users_video_either(blocked_pair):
    blocker, blocked, _ = blocked_pair
    theirs = VideoFactory(owner=blocked)
    response = client_for(blocker).post(f"/api/v1/videos/{theirs.id}/view", {"watched_ms": 3000}, format="json")
    assert response.status_code == 404


def test_a_blocked_user_can_still_report_the_blockers_video(blocked_pair):
    """Abuse reports are never blockable: blocking must not hide abuse from moderators."""
    _, blocked, video = blocked_pair
    response = client_for(blocked).post(f"/api/v1/videos/{video.id}/report", {"reason": "spam"}, format="json")
    assert response.status_code == 201, response.content


def _stored_playlists(video) -> None:
    """A master playlist with one rendition, as processing writes them."""
    from django.conf import settings

    from tiktok.storage import s3_client

    playlist_key = f"processed/{video.id}/360p/index.m3u8"
    video.renditions = [
        {"name": "360p", "playlist_key": playlist_key, "bandwidth": 800000, "width": 640, "height": 360}
    ]
    video.save(update_fields=["renditions"])
    client = s3_client()
    master = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\n360p/index.m3u8\n"
    client.put_object(Bucket=settings.AWS_STORAGE_BUCKET_NAME, Key=video.hls_master_key, Body=master.encode())
    variant = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nseg0.ts\n#EXT-X-ENDLIST\n"
    client.put_object(Bucket=settings.AWS_STORAGE_BUCKET_NAME, Key=playlist_key, Body=variant.encode())


def test_a_blocked_viewer_sending_their_token_gets_no_playlist(blocked_pair, api_client):
    blocker, blocked, video = blocked_pair
    _stored_playlists(video)
    path = f"/api/v1/videos/{video.id}/playback/master.m3u8"
    assert client_for(UserFactory()).get(path).status_code == 200  # anyone else
    assert client_for(blocker).get(path).status_code == 200  # the owner
    refused = client_for(blocked).get(path)
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found"
    variant = client_for(blocked).get(f"/api/v1/videos/{video.id}/playback/360p/index.m3u8")
    assert variant.status_code == 404
