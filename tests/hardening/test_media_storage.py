"""Django's storage API on the local object store: server-written media and static files."""

import pytest
import requests
from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command

from tiktok import media_urls
from tiktok.storage import s3_client


def stored(key: str) -> bytes:
    return s3_client().get_object(Bucket=settings.AWS_STORAGE_BUCKET_NAME, Key=key)["Body"].read()


def test_server_written_media_lands_in_the_private_bucket_and_its_url_is_signed():
    name = default_storage.save("avatars/4242/avatar.jpg", ContentFile(b"\xff\xd8jpeg bytes"))
    assert name.startswith("avatars/4242/")
    assert stored(name) == b"\xff\xd8jpeg bytes"
    url = default_storage.url(name)
    assert url == media_urls.media_url(name)
    assert requests.get(url, timeout=10).content == b"\xff\xd8jpeg bytes"  # presigned: it works
    unsigned = f"{settings.AWS_S3_ENDPOINT_URL}/{settings.AWS_STORAGE_BUCKET_NAME}/{name}"
    assert url != unsigned


def test_a_second_write_of_a_name_never_overwrites_the_first():
    first = default_storage.save("avatars/4243/a.jpg", ContentFile(b"one"))
    second = default_storage.save("avatars/4243/a.jpg", ContentFile(b"two"))
    assert first != second and stored(first) == b"one" and stored(second) == b"two"


def test_media_urls_go_through_the_cdn_with_a_token_when_there_is_one(settings):
    settings.CDN_BASE_URL = "https://cdn.example.test/media"
    settings.CDN_TOKEN_SECRET = "s3cret"
    url = default_storage.url("avatars/7/a.jpg")
    assert url.startswith("https://cdn.example.test/media/t/") and url.endswith("/avatars/7/a.jpg")


@pytest.mark.django_db
def test_collectstatic_writes_hashed_files_to_the_store_served_from_the_cdn(settings, tmp_path):
    settings.STATIC_URL = "https://cdn.example.test/static/"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "tiktok.media_storage.StaticStorage"},
    }
    call_command("collectstatic", "--noinput", "-v0")
    url = staticfiles_storage.url("admin/css/base.css")
    hashed = url.removeprefix("https://cdn.example.test/static/")
    assert hashed.startswith("admin/css/base.") and hashed != "admin/css/base.css"
    assert b"DJANGO Admin styles" in stored(f"static/{hashed}")
