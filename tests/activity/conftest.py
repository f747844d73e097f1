"""Fixtures for activity tests."""

import pytest
from rest_framework.test import APIClient

from tests.conftest import client_for
from tests.factories import VideoFactory


@pytest.fixture
def video(db):
    return VideoFactory()


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """``with run_on_commit(): ...`` runs the on-commit callbacks (counter deltas, tasks)
    registered inside the block, as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def login():
    """A logged-in API client for a user."""

    def make(user) -> APIClient:
        return client_for(user)

    return make


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The response is an error in the API's one shape."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]
