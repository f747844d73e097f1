"""A takedown really stops playback: the video's public objects move to a private
quarantine prefix (a task), and back on restore. Real clips, ffmpeg and the S3 server."""

import pytest
import requests

from moderation.services import video_moderate
from tests.videos.conftest import bucket_keys, upload
from videos.housekeeping import video_quarantine_sync
from videos.models import Moderation, Video

pytestmark = pytest.mark.django_db


def status_of(url: str) -> int:
    return requests.get(url, timeout=10).status_code


def test_hidden_video_urls_stop_working_and_restore_brings_them_back(
    auth_client, clips, complete, moderator, run_on_commit
):
    video_id = upload(auth_client, clips.small)
    complete(auth_client, video_id)
    card = auth_client.get(f"/api/v1/videos/{video_id}").json()
    urls = [card["hls_url"], card["poster_url"]]
    assert [status_of(url) for url in urls] == [200, 200]
    video = Video.objects.get(id=video_id)
    public_keys = bucket_keys(f"processed/{video_id}/") + bucket_keys(video.original_key)

    with run_on_commit():  # the quarantine task runs after the commit (inline here)
        video_moderate(video=video, moderation=Moderation.HIDDEN, actor=moderator, reason="takedown")
    assert all(status in (403, 404) for status in (status_of(url) for url in urls))
    assert bucket_keys(f"processed/{video_id}/") == [] and bucket_keys(video.original_key) == []
    assert sorted(bucket_keys(f"quarantine/{video_id}/")) == sorted(
        f"quarantine/{video_id}/{key}" for key in public_keys
    )
    # Anonymous GETs of the quarantined copies are refused too (private ACL).
    from django.conf import settings

    endpoint = f"{settings.AWS_S3_ENDPOINT_URL}/{settings.AWS_STORAGE_BUCKET_NAME}"
    assert status_of(f"{endpoint}/quarantine/{video_id}/{video.poster_key}") in (403, 404)

    assert video_quarantine_sync(video_id=video_id) == "nothing"  # idempotent
    with run_on_commit():
        video_moderate(video=video, moderation=Moderation.VISIBLE, actor=moderator, reason="appeal")
    assert [status_of(url) for url in urls] == [200, 200]
    assert bucket_keys(f"quarantine/{video_id}/") == []
    # Segments are public again for HLS players (no signature).
    segment = next(key for key in public_keys if key.endswith(".ts"))
    assert status_of(f"{endpoint}/{segment}") == 200


def test_deleting_a_quarantined_video_deletes_its_quarantined_objects(
    auth_client, clips, complete, moderator, run_on_commit
):
    video_id = upload(auth_client, clips.small)
    complete(auth_client, video_id)
    video = Video.objects.get(id=video_id)
    with run_on_commit():
        video_moderate(video=video, moderation=Moderation.REMOVED, actor=moderator, reason="takedown")
    assert bucket_keys(f"quarantine/{video_id}/")
    with run_on_commit():
        auth_client.delete(f"/api/v1/videos/{video_id}")
    assert bucket_keys(f"quarantine/{video_id}/") == []
