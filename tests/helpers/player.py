"""A black-box HLS client for the tests: follows ``hls_url`` the way a player does."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from django.conf import settings

CDN_PATH = re.compile(r"/t/(?P<token>[A-Za-z0-9_-]+)/(?P<expires>\d+)/(?P<key>(?P<prefix>[^/]+/[^/]+/).+)$")


@dataclass
class Playback:
    playlists: list[str] = field(default_factory=list)
    segments: list[str] = field(default_factory=list)
    segment_bytes: int = 0


def _uris(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def play(hls_url: str) -> Playback:
    """Fetch master -> every variant -> every segment, resolving relative URIs; asserts 200s."""
    result = Playback()
    master = requests.get(hls_url, timeout=10)
    assert master.status_code == 200, (hls_url, master.status_code, master.text[:200])
    assert master.text.startswith("#EXTM3U")
    result.playlists.append(hls_url)
    for variant_uri in _uris(master.text):
        variant_url = urljoin(hls_url, variant_uri)
        variant = requests.get(variant_url, timeout=10)
        assert variant.status_code == 200, (variant_url, variant.status_code)
        assert "#EXTINF" in variant.text
        result.playlists.append(variant_url)
        for segment_uri in _uris(variant.text):
            segment_url = urljoin(variant_url, segment_uri)
            segment = requests.get(segment_url, timeout=10)
            assert segment.status_code == 200, (segment_url, segment.status_code)
            assert segment.content[:1] == b"\x47"  # MPEG-TS sync byte
            result.segments.append(segment_url)
            result.segment_bytes += len(segment.content)
    return result


def valid_cdn_url(url: str) -> bool:
    """A URL on the CDN whose token really signs its key's prefix and is not expired."""
    if not settings.CDN_BASE_URL or not url.startswith(settings.CDN_BASE_URL.rstrip("/") + "/t/"):
        return False
    match = CDN_PATH.search(urlsplit(url).path)
    if not match:
        return False
    digest = hashlib.md5(  # noqa: S324 - nginx secure_link_md5
        f"{match['expires']}{match['prefix']} {settings.CDN_TOKEN_SECRET}".encode()
    ).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=") == match["token"]


def presigned(url: str) -> bool:
    query = parse_qs(urlsplit(url).query)
    return url.startswith(settings.AWS_S3_ENDPOINT_URL) and {"X-Amz-Signature", "X-Amz-Expires"} <= set(query)


def authorised(url: str | None) -> bool:
    """The contract for every media URL handed to a client: CDN token or presigned."""
    return url is not None and (valid_cdn_url(url) or presigned(url))
