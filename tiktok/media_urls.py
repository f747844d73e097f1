"""URLs handed to clients for objects of the private bucket: the one place that signs them.

Every URL a client receives for a stored object carries its own authorisation:

- CDN mode (``CDN_BASE_URL`` set): ``<CDN_BASE_URL>/t/<token>/<expires>/<key>``, where
  ``token = base64url(md5("<expires><prefix> <CDN_TOKEN_SECRET>"))`` without padding and
  ``prefix`` is the key's owner prefix (``processed/<video_id>/``, ``avatars/<user_id>/``).
  This is what nginx's ``secure_link_md5`` checks (``docker/nginx/cdn.conf``). Because the
  token sits in the path and covers the whole prefix, every relative URI inside an HLS
  playlist (``360p/index.m3u8``, ``seg0.ts``) resolves to a URL that carries it too.
- Direct mode: a presigned GET of the key (short expiry, ``tiktok.storage.presigned_get``).
  Playlists are served by the API with every child presigned (``videos.playback``, served by ``api.endpoints.videos``).

Used by ``accounts`` (avatars) and ``videos`` (posters, playlists), so it lives in core.
"""

from __future__ import annotations

import base64
import hashlib
import time

from django.conf import settings

from tiktok.storage import presigned_get

__all__ = ["cdn_enabled", "cdn_token", "cdn_url", "media_url", "presigned_get", "token_expiry", "token_prefix"]

# Expiries are rounded up to this step so a URL stays the same for a while (clients and
# caches reuse it) and lives between ttl and ttl + step seconds.
EXPIRY_STEP_SECONDS = 60


def token_prefix(key: str) -> str:
    """The prefix a token grants: the key's first two segments (``processed/<id>/``)."""
    parts = key.split("/")
    if len(parts) < 3 or not parts[0] or not parts[1]:
        raise ValueError(f"{key!r} is not under an owner prefix like processed/<id>/")
    return f"{parts[0]}/{parts[1]}/"


def cdn_token(*, prefix: str, expires: int, secret: str) -> str:
    """nginx ``secure_link_md5 "$expires$prefix $secret"``: base64url, no padding."""
    digest = hashlib.md5(f"{expires}{prefix} {secret}".encode(), usedforsecurity=False).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def token_expiry(*, expires_in: int, now: float | None = None) -> int:
    moment = int(now if now is not None else time.time()) + expires_in
    return -(-moment // EXPIRY_STEP_SECONDS) * EXPIRY_STEP_SECONDS


def cdn_url(key: str, *, expires: int | None = None) -> str:
    """The CDN URL of ``key`` with a token for its prefix."""
    if expires is None:
        expires = token_expiry(expires_in=settings.VIDEO_PLAYBACK_URL_EXPIRY_SECONDS)
    token = cdn_token(prefix=token_prefix(key), expires=expires, secret=settings.CDN_TOKEN_SECRET)
    return f"{settings.CDN_BASE_URL.rstrip('/')}/t/{token}/{expires}/{key}"


def cdn_enabled() -> bool:
    return bool(settings.CDN_BASE_URL)


def media_url(key: str) -> str | None:
    """The URL a client fetches ``key`` with: CDN with a token, else presigned; None for ""."""
    if not key:
        return None
    return cdn_url(key) if cdn_enabled() else presigned_get(key)
