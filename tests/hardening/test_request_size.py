"""A body too large for the server is refused with a 413 in the API's error shape."""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db


def test_oversized_json_body_is_a_413_in_the_error_shape(auth_client):
    bio = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 200_000)
    response = auth_client.patch("/api/v1/me", data=json.dumps({"bio": bio}), content_type="application/json")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"


def test_oversized_body_on_a_creating_post_changes_nothing(auth_client, user):
    text = "y" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = auth_client.post("/api/v1/videos", data=json.dumps({"caption": text}), content_type="application/json")
    assert response.status_code == 413
    assert not user.videos.exists()


def test_the_proxy_refuses_a_large_body_first_in_the_same_shape():
    """Behind nginx (compose) a body over its limit never reaches the app: same code, same shape."""
    conf = (Path(__file__).resolve().parents[2] / "docker" / "nginx" / "nginx.conf").read_text()
    limit = re.search(r"client_max_body_size (\d+)m;", conf)
    assert limit and int(limit.group(1)) * 1024 * 1024 <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert "error_page 413 = @request_too_large;" in conf
    body = re.search(r"location @request_too_large \{[^}]*return 413 '(.*)';", conf, re.S).group(1)
    assert json.loads(body)["error"]["code"] == "request_too_large"
