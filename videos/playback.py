"""Direct-mode playback (no CDN): the HLS playlists the API serves, every child authorised.

The bucket is private and a player drops a presigned master's query string when it
resolves relative URIs, so without a CDN the API serves the playlists itself:

- ``GET /api/v1/videos/<id>/playback/master.m3u8``: the master, whose variant URIs are
  ``<rendition>/index.m3u8`` relative to it, i.e. the second endpoint;
- ``GET /api/v1/videos/<id>/playback/<rendition>/index.m3u8``: the variant, with every
  segment URI replaced by a presigned GET (``VIDEO_PLAYBACK_URL_EXPIRY_SECONDS``).

Readable by whoever may read the card of a public video (anyone); nothing for a video
taken down, deleted or unfinished. With a CDN, ``hls_url`` points at the CDN instead.
The endpoints are in ``api.endpoints.videos``.
"""

from __future__ import annotations

import posixpath
import re

from tiktok import media_urls
from tiktok.exceptions import NotFoundError
from videos import store
from videos.selectors import video_get_public

PLAYLIST_CONTENT_TYPE = "application/vnd.apple.mpegurl"
VARIANT_NAME = "index.m3u8"
MAP_TAG = "#EXT-X-MAP:"
MAP_URI = re.compile(r'URI="([^"]+)"')


def _uri_lines(text: str, rewrite) -> str:
    """``text`` with each URI passed through ``rewrite``: URI lines (not blank, not a ``#``
    tag) and the ``URI`` of ``#EXT-X-MAP`` (the init segment of an fMP4 rendition).
    """
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith(MAP_TAG):
            line = MAP_URI.sub(lambda match: f'URI="{rewrite(match[1])}"', stripped)
        lines.append(rewrite(stripped) if stripped and not stripped.startswith("#") else line)
    return "\n".join(lines) + "\n"


def _read_playlist(key: str) -> str:
    try:
        return store.read_bytes(key).decode()
    except store.ObjectMissingError as exc:
        raise NotFoundError("No such video.") from exc


def master_playlist(*, video_id) -> str:
    """The master playlist with variant URIs relative to this endpoint."""
    video = video_get_public(video_id=video_id)
    names = {posixpath.basename(posixpath.dirname(item["playlist_key"])): item for item in video.renditions}
    base = posixpath.dirname(video.hls_master_key)

    def rewrite(uri: str) -> str:
        name = posixpath.dirname(posixpath.normpath(posixpath.join(base, uri))).rsplit("/", 1)[-1]
        if name not in names:
            raise NotFoundError("No such video.")  # a master that lists what the row does not
        return f"{name}/{VARIANT_NAME}"

    return _uri_lines(_read_playlist(video.hls_master_key), rewrite)


def variant_playlist(*, video_id, rendition: str) -> str:
    """A variant playlist whose every segment URI is presigned."""
    video = video_get_public(video_id=video_id)
    found = [item for item in video.renditions if item["playlist_key"].endswith(f"/{rendition}/{VARIANT_NAME}")]
    if not found:
        raise NotFoundError("No such rendition.")
    key = found[0]["playlist_key"]
    base = posixpath.dirname(key)
    prefix = store.processed_prefix(video_id=video.id)

    def rewrite(uri: str) -> str:
        child = posixpath.normpath(posixpath.join(base, uri))
        if not child.startswith(prefix):
            raise NotFoundError("No such rendition.")
        return media_urls.presigned_get(child)

    return _uri_lines(_read_playlist(key), rewrite)
