"""Fixtures for activity tests."""

import pytest
from rest_framework.test import APIClient

from tests.factories import VideoFactory
from tests.helpers.api import client_for


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
