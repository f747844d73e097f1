"""Django's storage API on the object store (django-storages), where it is the natural fit.

The upload flows (presigned PUTs, HEAD checks, copies into quarantine) need S3 calls that
Django's Storage API lacks, so they use boto3 (``tiktok.storage``). What the server itself
writes and Django should address by name goes through these storages instead:

- ``MediaStorage`` (``STORAGES["default"]``): files the server writes, the model file
  fields ``User.avatar``, ``User.avatar_thumbnail`` and ``Video.poster``. Its ``url()``
  (so ``<field>.url``) is the URL a client may fetch, the one ``tiktok.media_urls``
  signs: the CDN's with a token, or a presigned GET. ``file_url`` and ``stored_url``
  give it for a field's file or for a stored name.
- ``StaticStorage`` (``STORAGES["staticfiles"]`` when ``STATIC_FILES_ON_STORE``):
  ``collectstatic`` writes content-hashed names under ``static/`` in the bucket, served
  by the CDN from ``STATIC_URL``. ``make run`` keeps WhiteNoise.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import FileField
from django.db.models.fields.files import FieldFile
from storages.backends.s3 import S3ManifestStaticStorage, S3Storage
from storages.utils import clean_name

from tiktok import media_urls, storage


class MediaStorage(S3Storage):
    """Server-written objects of the private bucket, addressed by key.

    The model fields on it (``User.avatar``, ``User.avatar_thumbnail``, ``Video.poster``)
    hold the object's key, so code that moves or deletes by key or prefix (quarantine,
    clean-up, CDN purge) keeps working on them. Store failures are raised as
    ``tiktok.storage`` raises them (``StoreUnavailableError`` is what tasks retry).
    """

    default_acl = None  # the bucket's policy decides: private
    file_overwrite = False  # blobs are immutable: a second write of a name gets a new name
    querystring_auth = False  # url() signs through media_urls instead
    # Immutable like every processed object: the CDN and clients may keep them a year.
    object_parameters = {"CacheControl": storage.IMMUTABLE_CACHE_CONTROL}

    def get_default_settings(self):
        return {**super().get_default_settings(), "client_config": storage.client_config()}

    def url(self, name, parameters=None, expire=None, http_method=None):
        return media_urls.media_url(self._normalize_name(clean_name(name)))

    def _save(self, name, content):
        with storage.translate_errors("upload an object", name):
            return super()._save(name, content)

    def exists(self, name):
        with storage.translate_errors("read an object", name):
            return super().exists(name)

    def delete(self, name):
        with storage.translate_errors("delete an object", name):
            super().delete(name)


def file_url(file: FieldFile) -> str | None:
    """``file.url`` (signed by its storage), or None for an empty file field."""
    return file.url if file else None


def stored_url(field: FileField, name: str) -> str | None:
    """What ``file_url`` gives for a row whose ``field`` holds ``name``, for readers that
    keep names rather than rows (cached cards, raw SQL): None for an empty name."""
    return field.storage.url(name) if name else None


class StaticStorage(S3ManifestStaticStorage):
    """Hashed static files under ``static/``; their URLs are ``STATIC_URL`` + name (the CDN)."""

    location = "static"
    default_acl = None
    querystring_auth = False
    file_overwrite = True  # a manifest name carries its content hash

    def url(self, name, force=False):
        hashed = self.stored_name(name) if not settings.DEBUG or force else name
        return f"{settings.STATIC_URL.rstrip('/')}/{hashed}"
