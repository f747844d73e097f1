"""The per-request tax of an authenticated read: the short GET dispatch of the feed
(``api.base``) answers as DRF's full dispatch does, a cookie-less API request
touches no session, every request is still counted, and metrics never write files into
the working directory."""

import importlib
import os
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest
import yaml
from django.db import connections
from django.test.utils import CaptureQueriesContext

from tiktok import gunicorn_conf, metrics

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[2]


def requests_counted(route: str, status: int) -> float:
    return metrics.HTTP_REQUESTS.labels(method="GET", route=route, status=str(status))._value.get()


def test_a_cookieless_feed_read_creates_no_session_and_touches_no_session_table(auth_client):
    with ExitStack() as stack:
        captured = [stack.enter_context(CaptureQueriesContext(connection)) for connection in connections.all()]
        response = auth_client.get("/api/v1/feed")

    assert response.status_code == 200, response.content
    statements = [query["sql"] for context in captured for query in context.captured_queries]
    assert not [sql for sql in statements if "django_session" in sql]
    assert "Set-Cookie" not in response.headers and not response.cookies
    assert "Cookie" not in response.get("Vary", "")


def test_the_short_dispatch_keeps_drfs_headers_and_the_request_id(auth_client):
    response = auth_client.get("/api/v1/feed", HTTP_X_REQUEST_ID="feed-read-1")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Allow"] == "GET, HEAD, OPTIONS"
    assert response["X-Request-ID"] == "feed-read-1"
    assert len(auth_client.get("/api/v1/feed")["X-Request-ID"]) == 32


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "not_authenticated"),
        ("Bearer " + "0" * 64, "authentication_failed"),
        ("Bearer not-a-token", "authentication_failed"),
        ("Bearer", "authentication_failed"),
    ],
)
def test_the_short_dispatch_refuses_bad_credentials_in_the_one_error_shape(api_client, authorization, code):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = api_client.get("/api/v1/feed", **headers)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    body = response.json()
    assert body["error"]["code"] == code and set(body["error"]) == {"code", "message", "fields"}


def test_an_accept_header_json_cannot_serve_still_gets_406_in_the_error_shape(auth_client):
    response = auth_client.get("/api/v1/feed", HTTP_ACCEPT="text/html")

    assert response.status_code == 406
    assert response.json()["error"]["code"] == "not_acceptable"
    assert auth_client.get("/api/v1/feed", HTTP_ACCEPT="application/json").status_code == 200


def test_head_and_options_of_the_feed_take_the_full_dispatch(auth_client, api_client):
    assert auth_client.head("/api/v1/feed").status_code == 200
    assert api_client.options("/api/v1/feed").status_code == 401
    assert auth_client.post("/api/v1/feed", {}, format="json").status_code == 405


def test_metrics_count_every_feed_read_and_refusal(auth_client, api_client):
    ok_before, refused_before = requests_counted("feed", 200), requests_counted("feed", 401)

    auth_client.get("/api/v1/feed")
    auth_client.get("/api/v1/feed")
    api_client.get("/api/v1/feed")

    assert requests_counted("feed", 200) == ok_before + 2
    assert requests_counted("feed", 401) == refused_before + 1


def test_an_empty_multiprocess_dir_means_off_and_writes_no_files(tmp_path):
    """prometheus_client alone would write counter_<pid>.db into the working directory."""
    script = (
        "from tiktok import metrics; "
        "metrics.HTTP_REQUESTS.labels(method='GET', route='feed', status='200').inc(); "
        "print(metrics.registry() is metrics.REGISTRY)"
    )
    environment = os.environ | {"PROMETHEUS_MULTIPROC_DIR": "", "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "True"
    assert list(tmp_path.iterdir()) == []


def test_the_feeds_openapi_operation_is_documented_as_before(api_client):
    """The short dispatch is an ``APIView``: drf-spectacular documents ``/feed`` from its
    ``get`` (page parameters, the page component, Bearer security), with no description
    inherited from the base class."""
    schema = yaml.safe_load(api_client.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi").content)
    operation = schema["paths"]["/api/v1/feed"]["get"]

    assert "description" not in operation
    assert [parameter["name"] for parameter in operation["parameters"]] == ["cursor", "limit"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/FeedPageOutput"
    }
    assert operation["security"] and all(entry == {"BearerAuth": []} for entry in operation["security"])
    assert set(schema["paths"]["/api/v1/feed"]) == {"get"}


@pytest.mark.parametrize(("value", "expected"), [(None, None), ("", None), ("-", "-")])
def test_gunicorns_access_log_is_opt_in(monkeypatch, value, expected):
    """The proxy logs every request with its id; gunicorn's own line is opt-in."""
    if value is None:
        monkeypatch.delenv("GUNICORN_ACCESS_LOG", raising=False)
    else:
        monkeypatch.setenv("GUNICORN_ACCESS_LOG", value)

    assert importlib.reload(gunicorn_conf).accesslog == expected
