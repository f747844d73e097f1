"""Password guessing is slowed per (account, address) and per account, keyed on the
address a trusted proxy reports, while the owner keeps getting in; usernames are
normalised once, so look-alikes are one account with one lockout."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login"


def attempt(username: str, password: str, *, address: str = "198.51.100.7", forwarded: str | None = None):
    extra = {"REMOTE_ADDR": address}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return APIClient().post(LOGIN, {"username": username, "password": password}, format="json", **extra)


@pytest.fixture
def guard(settings):
    settings.LOGIN_BACKOFF_FREE_FAILURES = 3
    settings.LOGIN_ACCOUNT_FAILURE_LIMIT = 10
    settings.LOGIN_FAILURE_LIMIT = 50
    return settings


def test_ten_wrong_passwords_from_ten_addresses_do_not_lock_the_owner_out(guard):
    owner = UserFactory(username="probesis")
    assert attempt("probesis", PASSWORD, address="203.0.113.1").status_code == 200  # the owner's usual address
    for n in range(10):
        assert attempt("probesis", "guess", address=f"192.0.2.{n + 1}").status_code == 401
    assert attempt("probesis", PASSWORD, address="203.0.113.1").status_code == 200
    # A guesser on yet another address is now refused before the password is checked.
    locked = attempt("probesis", PASSWORD, address="192.0.2.99")
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "login_locked"
    assert int(locked["Retry-After"]) > 0
    assert owner.pk


def test_guessing_from_one_address_waits_longer_after_each_failure(guard):
    UserFactory(username="victim")
    for _ in range(3):  # typos are free
        assert attempt("victim", "guess").status_code == 401
    assert attempt("victim", "guess").status_code == 401  # the 4th failure starts the backoff
    slowed = attempt("victim", PASSWORD)
    assert slowed.status_code == 429
    assert 1 <= int(slowed["Retry-After"]) <= 2
    # Another address (the owner's) is not affected by this pair's backoff.
    assert attempt("victim", PASSWORD, address="203.0.113.50").status_code == 200


def test_rotating_x_forwarded_for_does_not_reset_the_backoff_without_a_trusted_proxy(guard):
    UserFactory(username="victim")
    for n in range(4):
        attempt("victim", "guess", forwarded=f"10.9.8.{n}")
    assert attempt("victim", PASSWORD, forwarded="10.9.8.200").status_code == 429


def test_behind_one_trusted_proxy_only_the_address_it_added_counts(guard):
    guard.TRUSTED_PROXY_COUNT = 1
    UserFactory(username="victim")
    for n in range(4):  # the client prepends junk; nginx's entry (rightmost) stays the same
        attempt("victim", "guess", address="10.0.0.2", forwarded=f"1.2.3.{n}, 198.51.100.7")
    assert attempt("victim", PASSWORD, address="10.0.0.2", forwarded="9.9.9.9, 198.51.100.7").status_code == 429
    assert attempt("victim", PASSWORD, address="10.0.0.2", forwarded="198.51.100.8").status_code == 200


def test_the_login_throttle_counts_the_real_address_not_the_header(settings, user):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "auth": "3/min"},
    }
    statuses = [attempt(user.username, PASSWORD, forwarded=f"10.1.1.{n}").status_code for n in range(5)]
    assert statuses == [200, 200, 200, 429, 429]


@pytest.mark.parametrize("look_alike", ["probeſis", "PROBESIS", "ProbeSis", "ｐｒｏｂｅｓｉｓ"])
def test_look_alike_usernames_are_the_same_account_and_share_its_lockout(guard, look_alike):
    UserFactory(username="probesis")
    for _ in range(4):
        assert attempt(look_alike, "guess").status_code == 401
    # The backoff was counted against the real account, whichever spelling was used.
    assert attempt("probesis", PASSWORD).status_code == 429


def test_dotless_i_and_other_outside_letters_match_no_account_and_cannot_register(api_client):
    UserFactory(username="probesis")
    assert attempt("probesıs", PASSWORD).status_code == 401
    response = api_client.post(
        "/api/v1/auth/register", {"username": "probesıs", "password": "a-long-password-1"}, format="json"
    )
    assert response.status_code == 400
    assert "username" in response.json()["error"]["fields"]


def test_registration_folds_look_alikes_into_the_taken_name(api_client):
    assert (
        api_client.post(
            "/api/v1/auth/register", {"username": "probesis", "password": "a-long-password-1"}, format="json"
        ).status_code
        == 201
    )
    for look_alike in ("probeſis", "PROBESIS", "ｐｒｏｂｅｓｉｓ"):
        response = api_client.post(
            "/api/v1/auth/register", {"username": look_alike, "password": "a-long-password-1"}, format="json"
        )
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "username_taken"
    assert User.objects.count() == 1


def test_the_migration_normalises_stored_names_and_stops_on_collisions():
    from importlib import import_module

    from django.apps import apps

    migration = import_module("accounts.migrations.0006_normalize_usernames")
    UserFactory(username="MixedCase")
    UserFactory(username="ｗｉｄｅ")
    migration.normalize_usernames(apps, None)
    assert set(User.objects.values_list("username", flat=True)) == {"mixedcase", "wide"}
    UserFactory(username="probesis"), UserFactory(username="Probeſis")  # distinct even lower-cased
    with pytest.raises(RuntimeError, match="probesis: "):
        migration.normalize_usernames(apps, None)
