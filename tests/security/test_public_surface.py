"""What the public side sees: JSON 404s under /api/ whatever DEBUG is, internal endpoints
(readiness, schema, docs) only for internal addresses, anonymous reads throttled."""

import pytest
from django.test import override_settings

from tests.factories import VideoFactory
from tests.helpers.api import assert_error

pytestmark = pytest.mark.django_db

PUBLIC = "203.0.113.9"
INTERNAL = "10.20.3.4"


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/nope"),
        ("get", "/api/nope"),
        ("get", "/api/"),
        ("get", "/api/v1/videos/x/y/z"),
        ("get", "/api/v1/feed/"),  # a trailing slash: no HTML redirect page either
        ("post", "/api/v1/nope"),
        ("delete", "/api/v2/feed"),
    ],
)
def test_every_unknown_path_under_api_is_a_json_404(api_client, debug, method, path):
    with override_settings(DEBUG=debug):
        response = getattr(api_client, method)(path)
    assert response["Content-Type"] == "application/json"
    assert_error(response, 404, "not_found")


@pytest.mark.parametrize("path", ["/readyz", "/api/schema", "/api/docs"])
def test_internal_endpoints_answer_internal_addresses_only(api_client, path):
    refused = api_client.get(path, REMOTE_ADDR=PUBLIC)
    assert_error(refused, 404, "not_found")
    # A forwarded header does not make a public peer internal.
    assert api_client.get(path, REMOTE_ADDR=PUBLIC, HTTP_X_FORWARDED_FOR=INTERNAL).status_code == 404
    assert api_client.get(path, REMOTE_ADDR=INTERNAL).status_code == 200
    assert api_client.get(path, REMOTE_ADDR="127.0.0.1").status_code == 200
    assert api_client.get("/healthz", REMOTE_ADDR=PUBLIC).status_code == 200  # liveness stays public


@pytest.fixture
def anon_rate(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon_reads": "3/min"},
    }


def test_anonymous_reads_are_throttled_per_address(api_client, auth_client, anon_rate):
    video = VideoFactory()
    # Every anonymous read counts: lists, and views that also take writes (a video).
    paths = ["/api/v1/feed/trending", f"/api/v1/videos/{video.id}", f"/api/v1/videos/{video.id}/comments"]
    for path in paths:
        assert api_client.get(path, REMOTE_ADDR=PUBLIC).status_code == 200, path
    refused = api_client.get("/api/v1/feed/trending", REMOTE_ADDR=PUBLIC)
    assert_error(refused, 429, "throttled")
    assert 0 < int(refused["Retry-After"]) <= 60
    assert_error(api_client.get(f"/api/v1/videos/{video.id}", REMOTE_ADDR=PUBLIC), 429, "throttled")
    # Another address has its own allowance; a signed-in reader is not counted by address.
    assert api_client.get("/api/v1/feed/trending", REMOTE_ADDR="198.51.100.7").status_code == 200
    for _ in range(5):
        assert auth_client.get("/api/v1/feed/trending", REMOTE_ADDR=PUBLIC).status_code == 200
