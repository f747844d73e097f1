"""The reference web client: one HTML page whose modules call the public API."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe


def _origin(url: str) -> str | None:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def content_security_policy() -> str:
    """No inline script or style; media and uploads only from the store, the CDN and here."""
    media = sorted(
        {
            origin
            for origin in (
                _origin(settings.CDN_BASE_URL),
                _origin(settings.AWS_S3_ENDPOINT_URL),
                _origin(settings.API_PUBLIC_BASE_URL),
            )
            if origin
        }
    )
    sources = " ".join(["'self'", *media])
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {sources} data: blob:",
            f"media-src {sources} blob:",
            f"connect-src {sources}",  # API calls, playlists and segments, the presigned PUT
            "worker-src 'self' blob:",  # hls.js demuxes in a worker
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


@require_safe
@cache_control(no_cache=True)
def client(request):
    response = render(request, "web/index.html")
    response["Content-Security-Policy"] = content_security_policy()
    response["Referrer-Policy"] = "same-origin"
    return response
