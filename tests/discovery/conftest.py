"""Fixtures of the discovery tests."""

from tests.helpers.commit import run_on_commit  # noqa: F401 - a fixture
