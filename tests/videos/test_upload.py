"""Starting and completing an upload: limits, ownership, mismatches, idempotency."""

from datetime import timedelta
from unittest import mock

import pytest
import requests
from django.conf import settings
from django.utils import timezone

from tests.helpers.api import client_for
from tests.helpers.videos import bucket_keys, put_file, start_upload, upload
from tiktok.storage import s3_client
from videos.models import Video, VideoStatus

pytestmark = pytest.mark.django_db


def assert_error(response, status: int, code: str, field: str | None = None):
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["code"] == code
    assert error["message"]
    if field is not None:
        assert field in error["fields"]


def test_create_returns_a_presigned_put_for_the_original_key(auth_client, user):
    response = start_upload(auth_client, size_bytes=1234, caption="  my clip  ")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "status", "upload"}
    assert body["status"] == "awaiting_upload"
    assert body["upload"]["method"] == "PUT"
    assert body["upload"]["headers"]["Content-Type"] == "video/mp4"
    assert body["upload"]["expires_at"]
    video = Video.objects.get(id=body["id"])
    assert video.owner == user
    assert video.caption == "my clip"
    assert video.original_key == f"originals/{user.pk}/{video.id}"
    assert video.original_key in body["upload"]["url"]
    assert video.upload_expires_at > timezone.now()


def test_anonymous_users_cannot_upload(api_client):
    assert_error(start_upload(api_client, size_bytes=10), 401, "not_authenticated")


@pytest.mark.parametrize(
    ("payload", "code", "field"),
    [
        ({"content_type": "image/png", "size_bytes": 100}, "unsupported_content_type", "content_type"),
        ({"content_type": "video/mp4", "size_bytes": 0}, "invalid_size", "size_bytes"),
        ({"content_type": "video/mp4", "size_bytes": -5}, "invalid_size", "size_bytes"),
        ({"content_type": "video/mp4", "size_bytes": "lots"}, "invalid", "size_bytes"),
        ({"content_type": "video/mp4"}, "invalid", "size_bytes"),
    ],
)
def test_create_rejects_bad_type_and_size_without_creating_a_row(auth_client, payload, code, field):
    response = auth_client.post("/api/v1/videos", payload, format="json")
    assert_error(response, 400, code, field)
    assert not Video.objects.exists()


def test_create_rejects_files_over_the_size_limit(auth_client):
    response = start_upload(auth_client, size_bytes=settings.VIDEO_MAX_UPLOAD_BYTES + 1)
    assert_error(response, 400, "upload_too_large", "size_bytes")
    assert not Video.objects.exists()


def test_create_rejects_a_caption_over_the_limit(auth_client):
    response = start_upload(auth_client, size_bytes=10, caption="x" * (settings.VIDEO_CAPTION_MAX_LENGTH + 1))
    assert_error(response, 400, "caption_too_long", "caption")
    assert not Video.objects.exists()


def test_complete_before_the_bytes_arrived_is_a_409(auth_client):
    video_id = start_upload(auth_client, size_bytes=1000).json()["id"]
    assert_error(auth_client.post(f"/api/v1/videos/{video_id}/complete"), 409, "upload_missing")
    assert Video.objects.get(id=video_id).status == VideoStatus.AWAITING_UPLOAD


def put_mismatch(upload: dict, path, *, content_type: str | None = None) -> None:
    """A file the URL was not signed for: the store refuses the PUT (403), so the object is
    written with the server's credentials instead, as a store that did not check the signed
    headers would keep it; ``complete`` must still catch the mismatch."""
    headers = {**upload["headers"], **({"Content-Type": content_type} if content_type else {})}
    response = requests.put(upload["url"], data=path.read_bytes(), headers=headers, timeout=30)
    assert response.status_code == 403, response.text
    key = requests.utils.urlparse(upload["url"]).path.split("/", 2)[2]
    assert bucket_keys(key) == []
    s3_client().put_object(
        Bucket=settings.AWS_STORAGE_BUCKET_NAME, Key=key, Body=path.read_bytes(), ContentType=headers["Content-Type"]
    )


def test_complete_with_a_different_size_deletes_the_object_and_keeps_the_upload_open(auth_client, clips):
    response = start_upload(auth_client, clips.small, size_bytes=clips.small.stat().st_size + 10)
    body = response.json()
    put_mismatch(body["upload"], clips.small)
    video = Video.objects.get(id=body["id"])
    assert bucket_keys(video.original_key) == [video.original_key]

    assert_error(auth_client.post(f"/api/v1/videos/{video.id}/complete"), 400, "upload_mismatch", "size_bytes")
    assert bucket_keys(video.original_key) == []
    video.refresh_from_db()
    assert video.status == VideoStatus.AWAITING_UPLOAD  # the client may PUT the right file again


def test_complete_with_a_different_content_type_is_a_mismatch(auth_client, clips):
    body = start_upload(auth_client, clips.small).json()
    put_mismatch(body["upload"], clips.small, content_type="video/webm")
    assert_error(auth_client.post(f"/api/v1/videos/{body['id']}/complete"), 400, "upload_mismatch", "content_type")
    assert bucket_keys(Video.objects.get(id=body["id"]).original_key) == []


def test_the_right_file_can_be_uploaded_again_after_a_mismatch(auth_client, clips, complete):
    body = start_upload(auth_client, clips.small).json()
    put_mismatch(body["upload"], clips.small, content_type="video/webm")
    assert auth_client.post(f"/api/v1/videos/{body['id']}/complete").status_code == 400
    put_file(body["upload"], clips.small)
    with mock.patch("videos.tasks.video_process.apply_async") as enqueue:
        response = complete(auth_client, body["id"])
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "processing"
    assert enqueue.call_count == 1 and enqueue.call_args.kwargs["args"] == [body["id"]]


def test_repeated_complete_is_harmless_and_enqueues_processing_once(auth_client, clips, complete):
    video_id = upload(auth_client, clips.small)
    with mock.patch("videos.tasks.video_process.apply_async") as enqueue:
        first = complete(auth_client, video_id)
        second = complete(auth_client, video_id)
    assert first.status_code == second.status_code == 200
    assert first.json()["status"] == second.json()["status"] == "processing"
    assert first.json()["creator"]["username"]
    assert enqueue.call_count == 1 and enqueue.call_args.kwargs["args"] == [video_id]


def test_complete_after_the_upload_url_expired_is_a_410(auth_client, clips):
    video_id = upload(auth_client, clips.small)
    Video.objects.filter(id=video_id).update(upload_expires_at=timezone.now() - timedelta(hours=1))
    assert_error(auth_client.post(f"/api/v1/videos/{video_id}/complete"), 410, "upload_expired")
    assert Video.objects.get(id=video_id).status == VideoStatus.AWAITING_UPLOAD


def test_someone_elses_video_is_not_found_for_every_write(auth_client, make_user, clips):
    video_id = upload(auth_client, clips.small)
    other = client_for(make_user())
    assert_error(other.post(f"/api/v1/videos/{video_id}/complete"), 404, "not_found")
    assert_error(other.patch(f"/api/v1/videos/{video_id}", {"caption": "mine"}, format="json"), 404, "not_found")
    assert_error(other.delete(f"/api/v1/videos/{video_id}"), 404, "not_found")
    assert_error(other.get(f"/api/v1/videos/{video_id}"), 404, "not_found")
    video = Video.objects.get(id=video_id)
    assert (video.status, video.caption) == (VideoStatus.AWAITING_UPLOAD, "hello")


@pytest.mark.parametrize("video_id", ["8f0e5a8e-0000-4000-8000-000000000000", "not-a-uuid", "123"])
def test_unknown_or_malformed_ids_are_not_found(auth_client, video_id):
    for response in (
        auth_client.get(f"/api/v1/videos/{video_id}"),
        auth_client.post(f"/api/v1/videos/{video_id}/complete"),
        auth_client.patch(f"/api/v1/videos/{video_id}", {"caption": "x"}, format="json"),
        auth_client.delete(f"/api/v1/videos/{video_id}"),
    ):
        assert_error(response, 404, "not_found")


def test_the_presigned_put_really_stores_the_bytes(auth_client, clips):
    body = start_upload(auth_client, clips.small).json()
    response = requests.put(
        body["upload"]["url"], data=clips.small.read_bytes(), headers=body["upload"]["headers"], timeout=30
    )
    assert response.status_code == 200
    key = Video.objects.get(id=body["id"]).original_key
    assert bucket_keys(key) == [key]
