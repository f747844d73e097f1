"""The admin and suspension: a suspended staff account loses its sessions, its tokens and
the admin at once; nobody reinstates themselves; only a superuser reinstates staff; the
admin login is throttled and backs off like the API's."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from moderation.roles import moderators_group_ensure
from moderation.services import user_reinstate, user_suspend
from tests.factories import PASSWORD, UserFactory
from tests.helpers.api import client_for
from tiktok.exceptions import PermissionDeniedError

pytestmark = pytest.mark.django_db


@pytest.fixture
def moderator():
    user = UserFactory(username="mod", is_staff=True)
    user.groups.add(moderators_group_ensure())
    return user


@pytest.fixture
def root():
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def admin_login(username: str, password: str, *, address: str = "198.51.100.20", forwarded: str | None = None):
    client = Client(REMOTE_ADDR=address, **({"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}))
    response = client.post("/admin/login/?next=/admin/", {"username": username, "password": password})
    return client, response


def test_suspension_ends_the_staff_members_sessions_and_tokens_at_once(moderator, root):
    browser, response = admin_login(moderator.username, PASSWORD)
    assert response.status_code == 302
    other_browser, _ = admin_login(moderator.username, PASSWORD)
    api = client_for(moderator)
    assert browser.get("/admin/").status_code == 200
    assert api.get("/api/v1/me").status_code == 200

    user_suspend(user=moderator, actor=root, reason="abused the queue")

    for session in (browser, other_browser):
        response = session.get("/admin/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert api.get("/api/v1/me").status_code == 401
    assert not [s for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(moderator.pk)]


def test_an_open_session_of_a_suspended_account_is_refused_even_if_not_deleted(moderator):
    from django.utils import timezone

    browser, _ = admin_login(moderator.username, PASSWORD)
    type(moderator).objects.filter(pk=moderator.pk).update(suspended_at=timezone.now())  # the row alone
    response = browser.get("/admin/moderation/reportedvideo/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_a_suspended_staff_member_cannot_log_into_the_admin(moderator, root):
    user_suspend(user=moderator, actor=root, reason="abused the queue")
    client, response = admin_login(moderator.username, PASSWORD)
    assert response.status_code == 200
    assert b"This account is suspended." in response.content
    assert client.get("/admin/").status_code == 302


def test_nobody_reinstates_themselves_and_only_a_superuser_reinstates_staff(moderator, root):
    other_moderator = UserFactory(username="mod2", is_staff=True)
    other_moderator.groups.add(moderators_group_ensure())
    user_suspend(user=other_moderator, actor=root, reason="abused the queue")

    with pytest.raises(PermissionDeniedError, match="yourself"):
        user_reinstate(user=other_moderator, actor=other_moderator, reason="I am fine")
    with pytest.raises(PermissionDeniedError, match="superuser"):
        user_reinstate(user=other_moderator, actor=moderator, reason="my friend")
    other_moderator.refresh_from_db()
    assert other_moderator.suspended_at is not None

    # Through the admin, as a moderator: refused with a message, nothing changes.
    browser, _ = admin_login(moderator.username, PASSWORD)
    changelist = "/admin/accounts/user/"
    data = {"action": "reinstate", "_selected_action": [str(other_moderator.pk)], "confirm_reason": "yes"}
    response = browser.post(changelist, {**data, "reason": "my friend"}, follow=True)
    assert b"Only a superuser can reinstate a staff account." in response.content
    other_moderator.refresh_from_db()
    assert other_moderator.suspended_at is not None

    user_reinstate(user=other_moderator, actor=root, reason="appeal accepted")
    other_moderator.refresh_from_db()
    assert other_moderator.suspended_at is None


def test_a_superuser_cannot_reinstate_himself_either(root):
    with pytest.raises(PermissionDeniedError, match="yourself"):
        user_reinstate(user=root, actor=root, reason="no")


def test_eleven_wrong_admin_passwords_then_the_right_one_is_refused(moderator):
    for n in range(11):
        _, response = admin_login(moderator.username, "wrong", forwarded=f"10.0.0.{n}")
        assert response.status_code == 200
    client, response = admin_login(moderator.username, PASSWORD, forwarded="10.0.0.99")
    assert response.status_code == 200
    assert b"Too many failed logins" in response.content
    assert client.get("/admin/").status_code == 302
    # The owner on an address that has not been guessing from still gets in.
    _, response = admin_login(moderator.username, PASSWORD, address="203.0.113.5")
    assert response.status_code == 302


def test_the_admin_login_is_throttled_per_address(settings, moderator):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "auth": "2/min"},
    }
    statuses = [admin_login(moderator.username, PASSWORD)[1].status_code for _ in range(3)]
    assert statuses[:2] == [302, 302]
    _, refused = admin_login(moderator.username, PASSWORD)
    assert b"Too many login attempts" in refused.content
