"""Processing an uploaded original: probe, poster, HLS renditions, publish, failures, retries."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from tests.helpers.videos import bucket_keys, upload, video_keys
from tiktok.storage import s3_client
from videos import processing, services, tasks
from videos.models import Moderation, Video, VideoStatus

pytestmark = pytest.mark.django_db


def read_object(key: str) -> tuple[bytes, str]:
    from django.conf import settings

    response = s3_client().get_object(Bucket=settings.AWS_STORAGE_BUCKET_NAME, Key=key)
    return response["Body"].read(), response["ContentType"]


def test_a_small_clip_is_published_with_one_rendition_at_its_own_size(auth_client, clips, complete):
    video_id = upload(auth_client, clips.small)
    with mock.patch("videos.services.video_published") as published:
        response = complete(auth_client, video_id)
    assert response.status_code == 200, response.content

    video = Video.objects.get(id=video_id)
    assert video.status == VideoStatus.READY, video.failure_reason
    published.assert_called_once_with(video_id=video.id)
    assert (video.width, video.height) == (320, 240)
    assert video.duration == pytest.approx(2.0, abs=0.2)
    assert video.published_at is not None
    assert video.processing_attempts == 1
    # Never upscaled: a 240p source gets one 240p rendition and no 360p/720p.
    assert [(r["name"], r["width"], r["height"]) for r in video.renditions] == [("240p", 320, 240)]
    assert video.hls_master_key == f"processed/{video.id}/master-240p.m3u8"

    master, master_type = read_object(video.hls_master_key)
    assert master_type == "application/vnd.apple.mpegurl"
    assert b"240p/index.m3u8" in master and b"RESOLUTION=320x240" in master
    segments = [key for key in bucket_keys(f"processed/{video.id}/240p/") if key.endswith(".ts")]
    assert segments
    assert read_object(segments[0])[1] == "video/mp2t"
    poster, poster_type = read_object(video.poster.name)
    assert poster_type == "image/jpeg" and poster.startswith(b"\xff\xd8")

    card = auth_client.get(f"/api/v1/videos/{video_id}").json()
    assert card["status"] == "ready"
    assert card["hls_url"].startswith("http") and "master-240p.m3u8" in card["hls_url"]
    assert card["poster_url"].startswith("http")


def test_publish_fast_then_the_follow_up_adds_the_higher_rendition(auth_client, clips, complete):
    video_id = upload(auth_client, clips.hd)
    with mock.patch("videos.tasks.video_add_renditions.apply_async") as follow_up:
        complete(auth_client, video_id)
    video = Video.objects.get(id=video_id)
    # Published as soon as the lowest rendition existed.
    assert video.status == VideoStatus.READY
    assert [r["name"] for r in video.renditions] == ["360p"]
    assert video.renditions[0]["width"] == 640
    assert follow_up.call_count == 1 and follow_up.call_args.kwargs["args"] == [video_id]

    tasks.video_add_renditions.delay(video_id)
    video.refresh_from_db()
    assert [(r["name"], r["width"], r["height"]) for r in video.renditions] == [("360p", 640, 360), ("720p", 1280, 720)]
    assert video.hls_master_key.endswith("master-360p-720p.m3u8")
    master = read_object(video.hls_master_key)[0].decode()
    assert master.index("360p/index.m3u8") < master.index("720p/index.m3u8")
    # The first master stays as it was (objects are immutable).
    assert "720p" not in read_object(f"processed/{video.id}/master-360p.m3u8")[0].decode()

    tasks.video_add_renditions.delay(video_id)  # nothing left to do
    video.refresh_from_db()
    assert len(video.renditions) == 2


@pytest.mark.parametrize(
    ("clip", "reason"),
    [
        ("noise", "Not a video file."),
        ("long", "Video is 61.0 s long; the limit is 60 s."),
        ("truncated", "Not a video file."),
    ],
)
def test_unplayable_uploads_fail_with_a_reason_and_leave_no_objects(auth_client, clips, complete, clip, reason):
    video_id = upload(auth_client, getattr(clips, clip))
    with mock.patch("videos.services.video_published") as published:
        assert complete(auth_client, video_id).status_code == 200
    video = Video.objects.get(id=video_id)
    assert video.status == VideoStatus.FAILED
    assert video.failure_reason
    if reason:
        assert video.failure_reason == reason
    published.assert_not_called()
    assert video_keys(video) == []
    assert (video.hls_master_key, video.poster.name, video.renditions) == ("", "", [])
    # The owner reads the reason; nobody else sees the video.
    card = auth_client.get(f"/api/v1/videos/{video_id}").json()
    assert (card["status"], card["failure_reason"]) == ("failed", video.failure_reason)


def test_processing_twice_is_harmless(auth_client, clips, complete):
    video_id = upload(auth_client, clips.medium)
    complete(auth_client, video_id)
    video = Video.objects.get(id=video_id)
    assert video.status == VideoStatus.READY
    with mock.patch("videos.media.probe") as probe:
        processing.video_process(video_id=video_id)
    probe.assert_not_called()
    assert Video.objects.get(id=video_id).processing_attempts == 1


def test_an_interrupted_run_can_start_again_from_the_beginning(auth_client, clips, django_capture_on_commit_callbacks):
    video_id = upload(auth_client, clips.medium)
    with mock.patch("videos.tasks.video_process.apply_async"):
        auth_client.post(f"/api/v1/videos/{video_id}/complete")
    # A first run dies in the middle of transcoding (as if the worker were killed).
    with mock.patch("videos.media.transcode_hls", side_effect=KeyboardInterrupt), pytest.raises(KeyboardInterrupt):
        processing.video_process(video_id=video_id)
    video = Video.objects.get(id=video_id)
    assert (video.status, video.processing_attempts) == (VideoStatus.PROCESSING, 1)

    with django_capture_on_commit_callbacks(execute=True):
        processing.video_process(video_id=video_id)  # the redelivered message
    video.refresh_from_db()
    assert (video.status, video.processing_attempts) == (VideoStatus.READY, 2)


def test_after_too_many_attempts_the_video_fails_and_is_cleaned_up(
    auth_client, clips, complete, settings, django_capture_on_commit_callbacks
):
    settings.VIDEO_PROCESSING_MAX_ATTEMPTS = 2
    video_id = upload(auth_client, clips.medium)
    with mock.patch("videos.tasks.video_process.apply_async"):
        complete(auth_client, video_id)
    Video.objects.filter(id=video_id).update(processing_attempts=2)
    with mock.patch("videos.media.probe") as probe, django_capture_on_commit_callbacks(execute=True):
        processing.video_process(video_id=video_id)
    probe.assert_not_called()
    video = Video.objects.get(id=video_id)
    assert video.status == VideoStatus.FAILED
    assert "could not be processed" in video.failure_reason
    assert video_keys(video) == []


def test_transient_store_errors_are_retried_with_backoff():
    from videos.store import StoreUnavailableError

    task = tasks.video_process
    assert StoreUnavailableError in task.autoretry_for or Exception in task.autoretry_for
    assert task.retry_backoff and task.retry_jitter and task.max_retries
    assert tasks.video_add_renditions.autoretry_for == (StoreUnavailableError,)


def test_a_video_deleted_while_processing_leaves_no_objects(auth_client, clips, django_capture_on_commit_callbacks):
    video_id = upload(auth_client, clips.medium)
    with mock.patch("videos.tasks.video_process.apply_async"):
        auth_client.post(f"/api/v1/videos/{video_id}/complete")
    video = Video.objects.get(id=video_id)
    real_publish = processing._processing_publish

    def delete_then_publish(*args, **kwargs):
        Video.objects.filter(id=video_id).delete()
        return real_publish(*args, **kwargs)

    with (
        mock.patch("videos.processing._processing_publish", side_effect=delete_then_publish),
        django_capture_on_commit_callbacks(execute=True),
    ):
        processing.video_process(video_id=video_id)
    assert bucket_keys(f"processed/{video_id}/") == []
    # The server's copy of the original is keyed by the video alone, so it goes too.
    assert bucket_keys(video.original_key) == [] and bucket_keys(f"verified/{video_id}/") == []


def test_owner_delete_removes_row_feed_entries_and_objects(
    auth_client, clips, complete, django_capture_on_commit_callbacks
):
    video_id = upload(auth_client, clips.small)
    complete(auth_client, video_id)
    video = Video.objects.get(id=video_id)
    assert video_keys(video)
    with mock.patch("videos.services.video_withdrawn") as withdrawn, django_capture_on_commit_callbacks(execute=True):
        response = auth_client.delete(f"/api/v1/videos/{video_id}")
    assert response.status_code == 204
    withdrawn.assert_called_once_with(video_id=video.id, owner_id=video.owner_id, feed_id=video.feed_id)
    assert not Video.objects.filter(id=video_id).exists()
    assert video_keys(video) == []
    assert auth_client.get(f"/api/v1/videos/{video_id}").status_code == 404


def test_abandoned_uploads_are_deleted_with_their_objects(auth_client, clips):
    abandoned_id = upload(auth_client, clips.small)
    fresh_id = upload(auth_client, clips.small)
    abandoned = Video.objects.get(id=abandoned_id)
    Video.objects.filter(id=abandoned_id).update(upload_expires_at=timezone.now() - timedelta(hours=2))

    assert tasks.delete_abandoned_uploads.delay().get() == 1
    assert not Video.objects.filter(id=abandoned_id).exists()
    assert bucket_keys(abandoned.original_key) == []
    fresh = Video.objects.get(id=fresh_id)
    assert bucket_keys(fresh.original_key) == [fresh.original_key]


def test_videos_stuck_in_processing_are_enqueued_again(auth_client, clips):
    video_id = upload(auth_client, clips.small)
    with mock.patch("videos.tasks.video_process.apply_async"):
        auth_client.post(f"/api/v1/videos/{video_id}/complete")
    recent_id = upload(auth_client, clips.small)
    Video.objects.filter(id=recent_id).update(status=VideoStatus.PROCESSING)
    Video.objects.filter(id=video_id).update(updated_at=timezone.now() - timedelta(hours=1))
    with mock.patch("videos.tasks.video_process.apply_async") as enqueue:
        assert tasks.requeue_stuck_processing.delay().get() == 1
    assert enqueue.call_count == 1 and enqueue.call_args.kwargs["args"] == [video_id]


def test_moderation_withdraws_and_republishes(auth_client, clips, complete, django_capture_on_commit_callbacks):
    video_id = upload(auth_client, clips.small)
    complete(auth_client, video_id)
    video = Video.objects.get(id=video_id)
    assert auth_client.get(f"/api/v1/videos/{video_id}").status_code == 200  # cached card

    with mock.patch("videos.services.video_withdrawn") as withdrawn:
        services.video_set_moderation(video_id=video.id, moderation=Moderation.HIDDEN, final=False)
    withdrawn.assert_called_once_with(video_id=video.id, owner_id=video.owner_id)
    from tests.factories import UserFactory
    from tests.helpers.api import client_for

    assert client_for(UserFactory()).get(f"/api/v1/videos/{video_id}").status_code == 404
    with mock.patch("videos.services.video_published") as published:
        change = services.video_set_moderation(video_id=video.id, moderation=Moderation.VISIBLE, final=False)
    published.assert_called_once_with(video_id=video.id)
    assert change.video.moderation == Moderation.VISIBLE and change.changed
