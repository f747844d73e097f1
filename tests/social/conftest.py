"""Fixtures for blocks, mutes and notifications."""

import pytest

from activity.graph.services import follow_create
from tests.helpers.feed import publish


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """``run_on_commit(action)``: run ``action`` and then its on-commit callbacks (tasks run
    eagerly in tests), as a real commit would."""

    def run(action):
        with django_capture_on_commit_callbacks(execute=True):
            return action()

    return run


@pytest.fixture
def follows(run_on_commit):
    def make(follower, followee):
        run_on_commit(lambda: follow_create(follower=follower, followee=followee))

    return make


@pytest.fixture
def published(run_on_commit):
    def make(owner, minutes_ago: float = 1, **fields):
        return publish(run_on_commit, owner, minutes_ago=minutes_ago, **fields)

    return make
