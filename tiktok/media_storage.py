"""Django's storage API on the object store (django-storages), where it is the natural fit.

The upload flows (presigned PUTs, HEAD checks, copies into quarantine) need S3 calls that
Django's Storage API lacks, so they use boto3 (``tiktok.storage``). What the server itself
writes and Django should address by name goes through these storages instead:

- ``MediaStorage`` (``STORAGES["default"]``): files the server writes, e.g. processed
  avatars and posters. Its ``url()`` is the URL a client may fetch, the one
  ``tiktok.media_urls`` signs: the CDN's with a token, or a presigned GET.
- ``StaticStorage`` (``STORAGES["staticfiles"]`` when ``STATIC_FILES_ON_STORE``):
  ``collectstatic`` writes content-hashed names under ``static/`` in the bucket, served
  by the CDN from ``STATIC_URL``. ``make run`` keeps WhiteNoise.
"""

from __future__ import annotations

from django.conf import settings
from storages.backends.s3 import S3ManifestStaticStorage, S3Storage
from storages.utils import clean_name

from tiktok import media_urls


class MediaStorage(S3Storage):
    """Server-written objects of the private bucket, addressed by key."""

    default_acl = None  # the bucket's policy decides: private
    file_overwrite = False  # blobs are immutable: a second write of a name gets a new name
    querystring_auth = False  # url() signs through media_urls instead

    def url(self, name, parameters=None, expire=None, http_method=None):
        return media_urls.media_url(self._normalize_name(clean_name(name)))


class StaticStorage(S3ManifestStaticStorage):
    """Hashed static files under ``static/``; their URLs are ``STATIC_URL`` + name (the CDN)."""

    location = "static"
    default_acl = None
    querystring_auth = False
    file_overwrite = True  # a manifest name carries its content hash

    def url(self, name, force=False):
        hashed = self.stored_name(name) if not settings.DEBUG or force else name
        return f"{settings.STATIC_URL.rstrip('/')}/{hashed}"
