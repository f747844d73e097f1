"""Posters and processed avatars are model file fields on the media storage.

The worker writes them through the field (django-storages on the private bucket), the
field holds the object's key in the old layout, and ``.url`` is the CDN URL with a
token that the CDN stand-in serves, while an unsigned or forged one is refused. A
takedown still moves the poster out of reach. Real S3 server, nginx, ffmpeg and Pillow.
"""

from __future__ import annotations

import io
import re
import uuid

import pytest
import requests
from django.conf import settings
from django.core.files.base import ContentFile
from PIL import Image

from accounts.avatars import UPLOAD_KEY, avatar_process
from accounts.models import AvatarStatus
from moderation.services import video_moderate
from tests.factories import UserFactory
from tests.helpers.player import valid_cdn_url
from tests.helpers.videos import bucket_keys, upload
from tiktok import storage
from tiktok.media_storage import MediaStorage
from videos.models import Moderation, Video

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _cdn_mode():
    if not settings.CDN_BASE_URL:
        pytest.skip("the CDN stand-in is not configured (run through `make test`)")


def status_of(url: str) -> int:
    return requests.get(url, timeout=10).status_code


def refused_variants(url: str) -> dict[str, str]:
    """The same object without a token and with a forged one."""
    match = re.search(r"/t/(?P<token>[^/]+)/(?P<expires>\d+)/(?P<key>.+)$", url)
    token, expires, key = match["token"], match["expires"], match["key"]
    forged = ("A" if token[0] != "A" else "B") + token[1:]
    base = settings.CDN_BASE_URL.rstrip("/")
    return {"unsigned": f"{base}/{key}", "forged": f"{base}/t/{forged}/{expires}/{key}"}


def assert_served_only_when_signed(url: str, body: bytes) -> None:
    assert valid_cdn_url(url), url
    response = requests.get(url, timeout=10)
    assert response.status_code == 200 and response.content == body
    assert response.headers["Content-Type"] == "image/jpeg"
    refused = refused_variants(url)
    assert {name: status_of(variant) for name, variant in refused.items()} == dict.fromkeys(refused, 403)


def stored_object(key: str) -> dict:
    return storage.s3_client().get_object(Bucket=settings.AWS_STORAGE_BUCKET_NAME, Key=key)


def test_processing_writes_the_poster_through_its_field_at_the_old_key(auth_client, clips, complete):
    video_id = upload(auth_client, clips.small)
    assert complete(auth_client, video_id).status_code == 200
    video = Video.objects.get(id=video_id)

    assert video.poster.name == f"processed/{video_id}/poster.jpg"
    stored = stored_object(video.poster.name)
    body = stored["Body"].read()
    assert body.startswith(b"\xff\xd8")  # a JPEG
    assert stored["ContentType"] == "image/jpeg" and stored["CacheControl"] == storage.IMMUTABLE_CACHE_CONTROL
    assert_served_only_when_signed(video.poster.url, body)
    # What the API hands out is the field's URL.
    card = auth_client.get(f"/api/v1/videos/{video_id}").json()
    assert card["poster_url"] == video.poster.url


def test_a_processed_avatar_is_written_through_the_users_fields(user, auth_client):
    image = Image.new("RGB", (500, 400), (10, 120, 200))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    upload_id = uuid.uuid4().hex
    upload_key = UPLOAD_KEY.format(user_id=user.pk, upload_id=upload_id)
    storage.put_bytes(buffer.getvalue(), upload_key, ContentType="image/png")
    user.avatar_upload_key = upload_key
    user.avatar_status = AvatarStatus.PROCESSING
    user.save(update_fields=["avatar_upload_key", "avatar_status"])

    assert avatar_process(user_id=user.pk, upload_key=upload_key) == "ready"
    user.refresh_from_db()
    assert user.avatar.name == f"avatars/{user.pk}/{upload_id}-320.jpg"
    assert user.avatar_thumbnail.name == f"avatars/{user.pk}/{upload_id}-96.jpg"
    for field, side in ((user.avatar, 320), (user.avatar_thumbnail, 96)):
        stored = stored_object(field.name)
        body = stored["Body"].read()
        assert Image.open(io.BytesIO(body)).size == (side, side)
        assert stored["CacheControl"] == storage.IMMUTABLE_CACHE_CONTROL
        assert_served_only_when_signed(field.url, body)
    me = auth_client.get("/api/v1/me").json()
    assert (me["avatar_url"], me["avatar_thumbnail_url"]) == (user.avatar.url, user.avatar_thumbnail.url)
    assert bucket_keys(f"avatars/{user.pk}/uploads/") == []


def test_a_takedown_quarantines_the_poster_the_field_names(
    auth_client, clips, complete, django_capture_on_commit_callbacks
):
    video_id = upload(auth_client, clips.small)
    complete(auth_client, video_id)
    video = Video.objects.get(id=video_id)
    issued = video.poster.url
    assert status_of(issued) == 200  # now in the CDN's cache too

    moderator = UserFactory(username="mod", is_staff=True)
    with django_capture_on_commit_callbacks(execute=True):  # the quarantine task runs (eager)
        video_moderate(video=video, moderation=Moderation.HIDDEN, actor=moderator, reason="takedown")
    video.refresh_from_db()
    assert bucket_keys(video.poster.name) == []
    assert bucket_keys(f"quarantine/{video_id}/{video.poster.name}") == [f"quarantine/{video_id}/{video.poster.name}"]
    assert status_of(issued) in (403, 404)  # purged from the CDN, gone from its key
    assert auth_client.get(f"/api/v1/videos/{video_id}").json()["poster_url"] is None


def test_a_store_outage_while_writing_is_the_error_tasks_retry(settings):
    settings.AWS_S3_ENDPOINT_URL = "http://127.0.0.1:9"  # discard port: nothing listens
    with pytest.raises(storage.StoreUnavailableError):
        MediaStorage().save("avatars/1/outage.jpg", ContentFile(b"\xff\xd8"))
