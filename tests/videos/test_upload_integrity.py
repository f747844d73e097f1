"""What is processed is what was completed: the presigned PUT stays usable until it
expires, so ``complete`` copies the original to a key only the server writes.

The signature itself (length, type, expiry) is checked by the store
(tests/videos/test_store_signatures.py); these tests hold the contract on top of it: after
``complete`` a PUT to the upload URL cannot change the object processing reads.
"""

from unittest import mock

import pytest

from tests.helpers.videos import bucket_keys, put_file, start_upload
from tiktok.storage import s3_client
from videos import processing, tasks
from videos.models import Video, VideoStatus

pytestmark = pytest.mark.django_db


def read_object(key: str) -> bytes:
    from django.conf import settings

    return s3_client().get_object(Bucket=settings.AWS_STORAGE_BUCKET_NAME, Key=key)["Body"].read()


def complete_without_processing(client, video_id: str, django_capture_on_commit_callbacks):
    with mock.patch("videos.tasks.video_process.apply_async"), django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/videos/{video_id}/complete")
    assert response.status_code == 200, response.content
    return response


def test_a_put_after_complete_cannot_change_what_is_processed(
    auth_client, clips, user, django_capture_on_commit_callbacks, tmp_path
):
    body = start_upload(auth_client, clips.small).json()
    put_file(body["upload"], clips.small)
    complete_without_processing(auth_client, body["id"], django_capture_on_commit_callbacks)

    video = Video.objects.get(id=body["id"])
    client_key = f"originals/{user.pk}/{video.id}"
    assert client_key in body["upload"]["url"]
    # Processing reads a copy at a key no presigned URL names; the client's key is gone.
    assert video.original_key.startswith(f"verified/{video.id}/") and video.original_key not in body["upload"]["url"]
    assert bucket_keys(client_key) == []
    assert read_object(video.original_key) == clips.small.read_bytes()

    # The URL is still valid (for the signed length and type): swap in other bytes of the
    # same length, which are no video at all, before the worker runs.
    swapped = tmp_path / "swapped.mp4"
    swapped.write_bytes(bytes(reversed(clips.small.read_bytes())))
    put_file(body["upload"], swapped)
    assert read_object(client_key) == swapped.read_bytes()
    with django_capture_on_commit_callbacks(execute=True):
        processing.video_process(video_id=video.id)
    video.refresh_from_db()
    assert video.status == VideoStatus.READY, video.failure_reason  # the swap would not decode
    assert (video.width, video.height) == (320, 240)
    assert [rendition["name"] for rendition in video.renditions] == ["240p"]


def test_a_complete_racing_a_finished_one_keeps_the_first_copy(auth_client, clips, django_capture_on_commit_callbacks):
    body = start_upload(auth_client, clips.small).json()
    put_file(body["upload"], clips.small)
    complete_without_processing(auth_client, body["id"], django_capture_on_commit_callbacks)
    first = Video.objects.get(id=body["id"]).original_key
    # A second complete (retry, or a concurrent one that lost) changes nothing.
    complete_without_processing(auth_client, body["id"], django_capture_on_commit_callbacks)
    video = Video.objects.get(id=body["id"])
    assert video.original_key == first
    assert bucket_keys(f"verified/{video.id}/") == [first]


def test_the_clean_up_deletes_uploads_put_again_after_complete_and_keeps_those_in_flight(
    auth_client, clips, user, django_capture_on_commit_callbacks
):
    completed = start_upload(auth_client, clips.small).json()
    put_file(completed["upload"], clips.small)
    complete_without_processing(auth_client, completed["id"], django_capture_on_commit_callbacks)
    put_file(completed["upload"], clips.small)  # a stray PUT through the still-valid URL
    in_flight = start_upload(auth_client, clips.small).json()
    put_file(in_flight["upload"], clips.small)
    stray_key, waiting_key = (f"originals/{user.pk}/{body['id']}" for body in (completed, in_flight))
    assert bucket_keys(stray_key) == [stray_key]

    assert tasks.delete_abandoned_uploads.delay().get() == 0  # no video deleted
    assert bucket_keys(stray_key) == []
    assert bucket_keys(waiting_key) == [waiting_key]
    verified = Video.objects.get(id=completed["id"]).original_key
    assert bucket_keys(verified) == [verified]


def test_deleting_a_completed_video_deletes_the_servers_copy(
    auth_client, clips, complete, django_capture_on_commit_callbacks
):
    body = start_upload(auth_client, clips.small).json()
    put_file(body["upload"], clips.small)
    complete(auth_client, body["id"])
    video = Video.objects.get(id=body["id"])
    assert video.status == VideoStatus.READY
    assert bucket_keys(f"verified/{video.id}/") == [video.original_key]
    with django_capture_on_commit_callbacks(execute=True):
        assert auth_client.delete(f"/api/v1/videos/{video.id}").status_code == 204
    assert bucket_keys(f"verified/{video.id}/") == []
