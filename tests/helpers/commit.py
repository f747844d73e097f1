"""``run_on_commit`` for the feed and discovery tests (loaded by their conftests)."""

import pytest


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """``run_on_commit(action)``: run ``action`` and then its on-commit callbacks (task
    enqueues run eagerly in tests), as a real commit would."""

    def run(action):
        with django_capture_on_commit_callbacks(execute=True):
            return action()

    return run
