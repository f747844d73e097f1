"""A takedown or a suspension really stops playback: the video's objects move to a
quarantine prefix (a task), and back on restore. Real clips, ffmpeg and the S3 server."""

from unittest import mock

import pytest
import requests

from moderation.services import user_reinstate, user_suspend, video_moderate
from tests.helpers.videos import bucket_keys, upload
from videos import processing, store
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
    assert status_of(f"{endpoint}/quarantine/{video_id}/{video.poster.name}") in (403, 404)

    assert video_quarantine_sync(video_id=video_id) == "nothing"  # idempotent
    with run_on_commit():
        video_moderate(video=video, moderation=Moderation.VISIBLE, actor=moderator, reason="appeal")
    assert [status_of(url) for url in urls] == [200, 200]
    assert bucket_keys(f"quarantine/{video_id}/") == []
    # Segments are back at their keys: a signed URL reads them again.
    segment = next(key for key in public_keys if key.endswith(".ts"))
    assert status_of(store.presigned_get(segment, expires_in=600)) == 200


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


def test_suspension_quarantines_every_video_of_the_creator_and_reinstatement_restores_them(
    auth_client, user, clips, complete, moderator, run_on_commit
):
    kept_id, hidden_id = upload(auth_client, clips.small), upload(auth_client, clips.medium)
    complete(auth_client, kept_id)
    complete(auth_client, hidden_id)
    with run_on_commit():  # taken down before the suspension: stays down after it
        video_moderate(
            video=Video.objects.get(id=hidden_id), moderation=Moderation.HIDDEN, actor=moderator, reason="takedown"
        )
    kept = Video.objects.get(id=kept_id)
    # Playback URLs handed out before the suspension (signed, so the private bucket serves them).
    segment = next(key for key in bucket_keys(f"processed/{kept_id}/") if key.endswith(".ts"))
    urls = [store.presigned_get(key, expires_in=600) for key in (segment, kept.hls_master_key, kept.poster.name)]
    assert [status_of(url) for url in urls] == [200, 200, 200]

    with run_on_commit():
        user_suspend(user=user, actor=moderator, reason="spam")
    assert all(status in (403, 404) for status in (status_of(url) for url in urls))
    assert bucket_keys(f"processed/{kept_id}/") == [] and bucket_keys(kept.original_key) == []
    assert f"quarantine/{kept_id}/{segment}" in bucket_keys(f"quarantine/{kept_id}/")

    with run_on_commit():
        user_reinstate(user=user, actor=moderator, reason="appeal")
    assert [status_of(url) for url in urls] == [200, 200, 200]
    assert bucket_keys(f"quarantine/{kept_id}/") == []
    # The moderator's takedown still holds.
    assert bucket_keys(f"processed/{hidden_id}/") == [] and bucket_keys(f"quarantine/{hidden_id}/")


def test_a_video_finishing_processing_while_its_creator_is_suspended_is_quarantined(
    auth_client, user, clips, moderator, run_on_commit, django_capture_on_commit_callbacks
):
    video_id = upload(auth_client, clips.small)
    with mock.patch("videos.tasks.video_process.apply_async"), django_capture_on_commit_callbacks(execute=True):
        auth_client.post(f"/api/v1/videos/{video_id}/complete")
    with run_on_commit():
        user_suspend(user=user, actor=moderator, reason="spam")
    with mock.patch("videos.services.video_published") as published, run_on_commit():
        processing.video_process(video_id=video_id)
    published.assert_not_called()
    assert Video.objects.get(id=video_id).status == "ready"
    assert bucket_keys(f"processed/{video_id}/") == []
    assert bucket_keys(f"quarantine/{video_id}/processed/{video_id}/")
