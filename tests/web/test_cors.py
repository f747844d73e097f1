"""Cross-origin rules: the API and the bucket answer the web client's origins, no others.

The client served at ``/`` is same-origin with the API, but its uploads go straight to
the store (another origin), and a client served elsewhere calls the API cross-origin:
both preflights must allow exactly ``WEB_CLIENT_ORIGINS``. The page itself carries a
Content-Security-Policy with no inline script.
"""

from __future__ import annotations

import re

import pytest
import requests
from django.conf import settings

from tiktok import media_urls
from tiktok.storage import s3_client
from web.bucket_cors import bucket_cors_apply
from web.views import content_security_policy

OTHER = "https://evil.example"


def api_preflight(client, origin: str):
    return client.options(
        "/api/v1/videos",
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type",
    )


@pytest.mark.django_db
def test_the_api_preflight_allows_the_configured_origin_and_refuses_another(client):
    assert settings.WEB_CLIENT_ORIGINS, "a local default origin is configured"
    origin = settings.WEB_CLIENT_ORIGINS[0]

    allowed = api_preflight(client, origin)
    assert allowed.status_code == 200
    assert allowed["Access-Control-Allow-Origin"] == origin
    assert {"authorization", "content-type"} <= {
        header.strip() for header in allowed["Access-Control-Allow-Headers"].split(",")
    }
    assert "POST" in allowed["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in allowed  # tokens, never cookies

    refused = api_preflight(client, OTHER)
    assert "Access-Control-Allow-Origin" not in refused


@pytest.mark.django_db
def test_a_cross_origin_api_call_from_another_origin_gets_no_cors_grant(client):
    response = client.get("/api/v1/feed/trending", HTTP_ORIGIN=OTHER)
    assert response.status_code == 200  # served, but the browser withholds it from the page
    assert "Access-Control-Allow-Origin" not in response
    origin = settings.WEB_CLIENT_ORIGINS[0]
    assert client.get("/api/v1/feed/trending", HTTP_ORIGIN=origin)["Access-Control-Allow-Origin"] == origin


def test_the_bucket_preflight_for_a_presigned_put_allows_the_configured_origin_only():
    storage = s3_client()
    bucket = settings.AWS_STORAGE_BUCKET_NAME
    origin = settings.WEB_CLIENT_ORIGINS[0]
    bucket_cors_apply(storage, bucket=bucket, origins=settings.WEB_CLIENT_ORIGINS)
    url = storage.generate_presigned_url(
        "put_object",
        Params={"Bucket": bucket, "Key": "originals/1/cors-probe", "ContentType": "video/mp4"},
        ExpiresIn=60,
        HttpMethod="PUT",
    )

    def preflight(from_origin: str):
        return requests.options(
            url,
            headers={
                "Origin": from_origin,
                "Access-Control-Request-Method": "PUT",
                "Access-Control-Request-Headers": "content-type",
            },
            timeout=10,
        )

    allowed = preflight(origin)
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == origin
    assert "PUT" in allowed.headers["Access-Control-Allow-Methods"]
    assert "content-type" in allowed.headers["Access-Control-Allow-Headers"].lower()

    refused = preflight(OTHER)
    assert refused.status_code == 403  # a failed preflight: the browser never sends the PUT


@pytest.mark.django_db
def test_the_client_page_has_a_strict_content_security_policy_and_no_inline_script(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    policy = response["Content-Security-Policy"]
    assert policy == content_security_policy()
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy
    html = response.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "every script is a file"
    assert not re.search(r"\son[a-z]+=", html), "no inline event handlers"
    assert not re.search(r"<style|\sstyle=", html), "no inline styles"
    for static in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert client.get(static).status_code == 200, static


@pytest.mark.django_db
def test_the_cdn_grants_media_to_the_local_client_origin_only():
    """The local CDN answers media cross-origin only to pages of this machine (compose: only
    WEB_CLIENT_ORIGINS), never to any origin."""
    if not settings.CDN_BASE_URL:
        pytest.skip("no CDN in this environment")
    key = "processed/cors-probe/master.m3u8"
    s3_client().put_object(Bucket=settings.AWS_STORAGE_BUCKET_NAME, Key=key, Body=b"#EXTM3U\n")
    url = media_urls.cdn_url(key)
    origin = settings.WEB_CLIENT_ORIGINS[0]
    allowed = requests.get(url, headers={"Origin": origin}, timeout=10)
    assert allowed.status_code == 200
    assert allowed.headers.get("Access-Control-Allow-Origin") == origin
    refused = requests.get(url, headers={"Origin": OTHER}, timeout=10)
    assert refused.status_code == 200  # the token authorises the bytes; the browser withholds them
    assert "Access-Control-Allow-Origin" not in refused.headers
