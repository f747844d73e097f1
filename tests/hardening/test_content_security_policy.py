"""Every HTML page carries a Content-Security-Policy that allows only the project's scripts."""

import pytest

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def test_admin_login_page_sends_a_strict_policy(client):
    response = client.get("/admin/login/")
    assert response.status_code == 200
    policy = directives(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]


def test_the_policy_lets_media_come_from_the_object_store(client, settings):
    policy = directives(client.get("/admin/login/"))
    store = settings.AWS_S3_ENDPOINT_URL.rstrip("/")
    assert store in policy["media-src"] and store in policy["connect-src"]
    assert "blob:" in policy["media-src"]  # the HLS player feeds media through MediaSource
