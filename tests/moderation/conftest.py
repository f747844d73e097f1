"""Fixtures for moderation tests: the moderators group, staff users, admin clients."""

from __future__ import annotations

import pytest
from django.test import Client

from moderation.roles import moderators_group_ensure
from tests.factories import UserFactory
from tests.helpers.moderation import admin_client_for


@pytest.fixture
def moderators_group(db):
    """The group the data migration creates (ensured again: transactional tests flush it)."""
    return moderators_group_ensure()


@pytest.fixture
def moderator(moderators_group):
    user = UserFactory(username="mod", is_staff=True)
    user.groups.add(moderators_group)
    return user


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def moderator_client(moderator) -> Client:
    return admin_client_for(moderator)


@pytest.fixture
def superuser_client(superuser) -> Client:
    return admin_client_for(superuser)


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """``with run_on_commit(): ...`` runs what commits would run (tasks run eagerly)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
