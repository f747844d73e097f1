"""The CDN's cache as the videos app sees it: purging a video's objects after a takedown.

Quarantine and deletion take the objects away from the bucket's keys; the CDN may still
hold copies, so every takedown path (``videos.housekeeping``) purges them too. One hook,
``purge_video``, with a backend chosen by ``CDN_PURGE_BACKEND``:

- ``"nginx"``: the local stand-in (``docker/nginx/cdn.conf``, ngx_cache_purge). Its cache
  key is ``<bucket>/<key>`` whatever the token, so one ``PURGE <CDN_PURGE_URL>/<bucket>/<key>``
  per object drops it for every URL (200 purged, 404 was not cached). The module purges
  exact keys only, hence the object list.
- ``"none"``: direct mode (no CDN), or a CDN purged elsewhere.

A commercial CDN gets a backend here that purges the prefix ``processed/<video_id>/`` in
one call (docs/operations.md, "CDN"): the keys are passed anyway for CDNs that purge URLs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from urllib.parse import quote

import requests
from django.conf import settings

from videos.store import StoreUnavailableError

logger = logging.getLogger(__name__)


class CdnPurgeError(StoreUnavailableError):
    """The CDN did not confirm a purge; the task retries."""

    code = "cdn_purge_failed"


def _purge_nginx(video_id: str, keys: list[str]) -> None:
    base = settings.CDN_PURGE_URL.rstrip("/")
    if not base:
        raise CdnPurgeError("CDN_PURGE_URL is not set; cannot purge the CDN.")
    bucket = settings.AWS_STORAGE_BUCKET_NAME
    with requests.Session() as session:
        for key in keys:
            url = f"{base}/{quote(bucket)}/{quote(key)}"
            try:
                response = session.request("PURGE", url, timeout=settings.CDN_PURGE_TIMEOUT_SECONDS)
            except requests.RequestException as exc:
                raise CdnPurgeError(f"The CDN did not answer a purge of {key}.") from exc
            if response.status_code not in (200, 404):
                raise CdnPurgeError(f"The CDN answered {response.status_code} to a purge of {key}.")


def _purge_nothing(video_id: str, keys: list[str]) -> None:
    return None


_BACKENDS = {"nginx": _purge_nginx, "none": _purge_nothing}


def purge_video(*, video_id, keys: Iterable[str]) -> int:
    """Drop the CDN's cached copies of a video's objects (``keys`` as in the bucket).

    Raises ``CdnPurgeError`` (a transient store error: tasks retry it) when the CDN does
    not confirm. Returns how many keys were purged.
    """
    backend = _BACKENDS.get(settings.CDN_PURGE_BACKEND)
    if backend is None:
        raise ValueError(f"Unknown CDN_PURGE_BACKEND {settings.CDN_PURGE_BACKEND!r}; use one of {sorted(_BACKENDS)}.")
    keys = sorted(set(keys))
    if not keys:
        return 0
    backend(str(video_id), keys)
    logger.info("video %s: %s objects purged from the CDN (%s)", video_id, len(keys), settings.CDN_PURGE_BACKEND)
    return len(keys)
