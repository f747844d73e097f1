"""Profile pictures end to end: presigned upload, worker verification with Pillow, two
sizes without metadata, URLs on /me, public profiles and video cards; bad images never
become an avatar and never cause a 500. Real S3 server, real image decoding."""

from __future__ import annotations

import io

import pytest
import requests
from django.conf import settings
from PIL import Image

from accounts.avatars import avatar_process
from tests.helpers.player import authorised

pytestmark = pytest.mark.django_db


def image_bytes(fmt="JPEG", size=(640, 480), exif=True) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    buffer = io.BytesIO()
    kwargs = {}
    if exif:
        data = Image.Exif()
        data[0x010F] = "SecretCam"  # Make
        data[0x8825] = {1: "N", 2: (1.0, 2.0, 3.0)}  # GPS info
        kwargs["exif"] = data
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


@pytest.fixture
def upload_avatar(django_capture_on_commit_callbacks):
    """POST /me/avatar, PUT the bytes, POST .../complete (the worker task runs inline)."""

    def run(client, data: bytes, content_type="image/jpeg"):
        started = client.post(
            "/api/v1/me/avatar", {"content_type": content_type, "size_bytes": len(data)}, format="json"
        )
        assert started.status_code == 201, started.content
        ticket = started.json()["upload"]
        assert ticket["method"] == "PUT" and set(ticket) == {"method", "url", "headers", "expires_at"}
        put = requests.put(ticket["url"], data=data, headers=ticket["headers"], timeout=10)
        assert put.status_code == 200
        with django_capture_on_commit_callbacks(execute=True):
            completed = client.post("/api/v1/me/avatar/complete")
        assert completed.status_code == 202, completed.content
        return client.get("/api/v1/me").json()

    return run


def test_an_avatar_is_verified_resized_stripped_and_shown_everywhere(auth_client, api_client, user, upload_avatar):
    me = upload_avatar(auth_client, image_bytes())
    assert me["avatar_status"] == "ready" and me["avatar_failure_reason"] == ""
    assert authorised(me["avatar_url"]) and authorised(me["avatar_thumbnail_url"])
    for url, side in ((me["avatar_url"], 320), (me["avatar_thumbnail_url"], 96)):
        response = requests.get(url, timeout=10)
        assert response.status_code == 200 and response.headers["Content-Type"] == "image/jpeg"
        image = Image.open(io.BytesIO(response.content))
        assert image.size == (side, side)
        assert not image.getexif() and "exif" not in image.info  # metadata stripped
        assert b"SecretCam" not in response.content

    profile = api_client.get(f"/api/v1/users/{user.username}").json()
    assert authorised(profile["avatar_url"])
    # The upload itself is gone; only the two sizes stay.
    from tests.helpers.videos import bucket_keys

    user.refresh_from_db()
    keys = bucket_keys(f"avatars/{user.pk}/")
    assert [key for key in keys if "/uploads/" in key] == []
    assert {user.avatar.name, user.avatar_thumbnail.name} <= set(keys)


def test_video_cards_carry_the_creators_avatar(auth_client, api_client, user, upload_avatar):
    from tests.helpers.videos import make_ready_video

    video = make_ready_video(user)
    assert api_client.get(f"/api/v1/videos/{video.id}").json()["creator"]["avatar_url"] is None
    upload_avatar(auth_client, image_bytes(fmt="PNG", exif=False), content_type="image/png")
    from videos.selectors import video_cards_invalidate

    video_cards_invalidate([video.id])  # a cached card shows the new avatar once it expires
    card = api_client.get(f"/api/v1/videos/{video.id}").json()
    assert authorised(card["creator"]["avatar_url"])
    assert requests.get(card["creator"]["avatar_url"], timeout=10).status_code == 200


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "not a JPEG, PNG or WebP"),  # a PNG header, no image
        (image_bytes()[:300], "could not be read"),  # truncated JPEG
        ("gif", "not a JPEG, PNG or WebP"),  # a real image in a format not accepted
        ("oversized", "at most 4096x4096"),
    ],
    ids=["garbage", "truncated", "gif", "too_many_pixels"],
)
def test_bad_images_never_become_an_avatar_and_the_owner_reads_why(auth_client, user, upload_avatar, data, reason):
    if data == "oversized":
        data = image_bytes(fmt="PNG", size=(5000, 10), exif=False)
    elif data == "gif":
        data = image_bytes(fmt="GIF", exif=False)
    me = upload_avatar(auth_client, data, content_type="image/png")
    assert me["avatar_status"] == "failed"
    assert reason in me["avatar_failure_reason"]
    assert me["avatar_url"] is None and me["avatar_thumbnail_url"] is None


def test_a_failed_replacement_keeps_the_previous_avatar(auth_client, upload_avatar):
    first = upload_avatar(auth_client, image_bytes())
    again = upload_avatar(auth_client, b"not an image at all", content_type="image/jpeg")
    assert again["avatar_status"] == "failed"
    assert again["avatar_url"].split("?")[0] == first["avatar_url"].split("?")[0]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"content_type": "video/mp4", "size_bytes": 100}, "content_type"),
        ({"content_type": "image/svg+xml", "size_bytes": 100}, "content_type"),
        ({"content_type": "image/png", "size_bytes": 0}, "size_bytes"),
        ({"content_type": "image/png", "size_bytes": 50 * 1024 * 1024}, "size_bytes"),
        ({"content_type": "image/png"}, "size_bytes"),
        ({"size_bytes": "many"}, "size_bytes"),
    ],
)
def test_bad_avatar_upload_requests_are_precise_400s(auth_client, body, field):
    response = auth_client.post("/api/v1/me/avatar", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_completing_without_an_upload_or_before_the_bytes_arrive_is_a_409(auth_client):
    assert auth_client.post("/api/v1/me/avatar/complete").json()["error"]["code"] == "no_avatar_upload"
    auth_client.post("/api/v1/me/avatar", {"content_type": "image/png", "size_bytes": 100}, format="json")
    response = auth_client.post("/api/v1/me/avatar/complete")
    assert response.status_code == 409 and response.json()["error"]["code"] == "upload_missing"


def test_a_file_unlike_the_declared_one_is_refused(auth_client):
    ticket = auth_client.post(
        "/api/v1/me/avatar", {"content_type": "image/png", "size_bytes": 100}, format="json"
    ).json()["upload"]
    # Another length than declared: the store refuses the signed PUT or complete does.
    put = requests.put(ticket["url"], data=b"x" * 50, headers=ticket["headers"], timeout=10)
    response = auth_client.post("/api/v1/me/avatar/complete")
    assert put.status_code != 200 or response.status_code in (400, 409)
    assert response.status_code in (400, 409)


def test_a_stale_processing_task_changes_nothing(user):
    assert avatar_process(user_id=user.pk, upload_key=f"avatars/{user.pk}/uploads/old") == "stale"
    user.refresh_from_db()
    assert user.avatar_status == "" and user.avatar.name == ""


def test_anonymous_users_cannot_upload_avatars(api_client):
    assert api_client.post("/api/v1/me/avatar", {"content_type": "image/png", "size_bytes": 1}).status_code == 401
    assert settings.AVATAR_MAX_DIMENSION == 4096
