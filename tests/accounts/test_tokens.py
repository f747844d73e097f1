"""Bearer tokens: hashed, per device, expiring, revoked at once (whatever the replica lag),
and a warm lookup that costs no SQL."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import time_machine
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_redis import get_redis_connection
from knox.models import AuthToken
from rest_framework.test import APIClient, APIRequestFactory

from accounts.authentication import BearerTokenAuthentication
from tests.factories import PASSWORD, UserFactory
from tests.helpers.stack import replica_paused, wait_for_replica_to_catch_up
from tiktok import db_router

pytestmark = pytest.mark.django_db


def login(username: str, password: str = PASSWORD) -> tuple[APIClient, dict]:
    client = APIClient()
    response = client.post("/api/v1/auth/login", {"username": username, "password": password}, format="json")
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['token']}")
    return client, response.json()


def me_status(client: APIClient) -> int:
    return client.get("/api/v1/me").status_code


@pytest.fixture
def paused_replica():
    """Replay paused on the replica: anything read there is stale."""
    wait_for_replica_to_catch_up()
    with replica_paused():
        yield


def test_tokens_are_stored_as_sha512_digests_one_per_device(user):
    phone, phone_body = login(user.username)
    laptop, laptop_body = login(user.username)
    assert phone_body["token"] != laptop_body["token"]
    rows = list(AuthToken.objects.filter(user=user).values("digest", "token_key", "expiry"))
    assert len(rows) == 2
    for body in (phone_body, laptop_body):
        digest = hashlib.sha512(body["token"].encode()).hexdigest()
        row = next(row for row in rows if row["digest"] == digest)
        assert body["token"] not in (row["digest"], row["token_key"])
        assert row["expiry"] is not None
    assert me_status(phone) == me_status(laptop) == 200


def test_logout_ends_this_device_only_and_logout_all_ends_every_device(user):
    phone, _ = login(user.username)
    laptop, _ = login(user.username)
    tablet, _ = login(user.username)
    assert {me_status(phone), me_status(laptop), me_status(tablet)} == {200}  # cached now
    assert phone.post("/api/v1/auth/logout").status_code == 204
    assert me_status(phone) == 401
    assert me_status(laptop) == 200
    assert laptop.post("/api/v1/auth/logout-all").status_code == 204
    assert me_status(laptop) == me_status(tablet) == 401
    assert not AuthToken.objects.filter(user=user).exists()


def test_a_token_stops_working_when_it_expires(user, settings):
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_TTL": timedelta(hours=1)}
    client, body = login(user.username)
    assert body["expires_at"]
    assert me_status(client) == 200  # and now cached, with its expiry
    with time_machine.travel(timezone.now() + timedelta(hours=1, seconds=1), tick=False):
        response = client.get("/api/v1/me")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "authentication_failed"
        from accounts.tasks import tokens_delete_expired

        assert tokens_delete_expired() == 1  # the hourly clean-up
    assert not AuthToken.objects.filter(user=user).exists()


def test_logging_in_past_the_device_limit_signs_out_the_oldest(user, settings):
    settings.TOKEN_LIMIT_PER_USER = 2
    first, _ = login(user.username)
    assert me_status(first) == 200
    second, _ = login(user.username)
    third, _ = login(user.username)
    assert (me_status(first), me_status(second), me_status(third)) == (401, 200, 200)


def test_password_change_checks_the_old_one_and_signs_out_every_device(user):
    phone, _ = login(user.username)
    laptop, _ = login(user.username)
    assert me_status(laptop) == 200
    wrong = phone.post(
        "/api/v1/me/password", {"current_password": "nope", "new_password": "another-long-one-7"}, format="json"
    )
    assert wrong.status_code == 400
    assert "current_password" in wrong.json()["error"]["fields"]
    weak = phone.post(
        "/api/v1/me/password", {"current_password": PASSWORD, "new_password": "12345678901"}, format="json"
    )
    assert weak.status_code == 400
    assert "new_password" in weak.json()["error"]["fields"]
    assert me_status(laptop) == 200

    changed = phone.post(
        "/api/v1/me/password", {"current_password": PASSWORD, "new_password": "another-long-one-7"}, format="json"
    )
    assert changed.status_code == 200, changed.content
    assert me_status(phone) == me_status(laptop) == 401
    phone.credentials(HTTP_AUTHORIZATION=f"Bearer {changed.json()['token']}")
    assert me_status(phone) == 200
    assert (
        APIClient()
        .post("/api/v1/auth/login", {"username": user.username, "password": PASSWORD}, format="json")
        .status_code
        == 401
    )
    login(user.username, "another-long-one-7")


def test_an_admin_setting_a_password_signs_out_every_device(user):
    from django.test import Client

    phone, _ = login(user.username)
    assert me_status(phone) == 200
    admin = Client()
    admin.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    response = admin.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"password1": "set-by-admin-99", "password2": "set-by-admin-99", "set_usable_password": "true"},
    )
    assert response.status_code == 302, response.content[:500]
    assert me_status(phone) == 401
    login(user.username, "set-by-admin-99")


def test_a_cache_miss_reads_the_primary_and_the_next_request_hits_the_cache(user):
    client, _ = login(user.username)
    assert me_status(client) == 200
    get_redis_connection("durable").flushdb()
    assert me_status(client) == 200  # filled again from the primary
    assert get_redis_connection("durable").keys("auth:token:*")


def test_a_warm_token_authenticates_with_no_sql_and_loads_the_user_only_when_needed(user):
    _, body = login(user.username)
    request = APIRequestFactory().get("/api/v1/feed", HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    with db_router.scope():
        BearerTokenAuthentication().authenticate(request)  # fills the cache
    with db_router.scope(), CaptureQueriesContext(connections["default"]) as primary:
        with CaptureQueriesContext(connections["replica"]) as replica:
            authenticated, identity = BearerTokenAuthentication().authenticate(request)
            assert authenticated.pk == authenticated.id == user.pk
            assert authenticated.is_authenticated and bool(authenticated)
            assert db_router.current_scope().user_id == user.pk
            assert len(primary) + len(replica) == 0
            assert authenticated.username == user.username  # loaded on first use, once
            assert authenticated.display_name == user.display_name
            assert len(primary) + len(replica) == 1


@pytest.mark.django_db(transaction=True)
def test_revocations_fail_the_very_next_request_while_the_replica_lags(request):
    member, moderator_target = UserFactory(username="member"), UserFactory(username="target")
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    phone, _ = login(member.username)
    laptop, _ = login(member.username)
    target, _ = login(moderator_target.username)
    assert {me_status(phone), me_status(laptop), me_status(target)} == {200}
    request.getfixturevalue("paused_replica")

    # A brand-new token works at once (it was written to the primary).
    tablet, _ = login(member.username)
    assert me_status(tablet) == 200
    assert phone.post("/api/v1/auth/logout").status_code == 204
    assert me_status(phone) == 401
    assert laptop.post("/api/v1/auth/logout-all").status_code == 204
    assert me_status(laptop) == me_status(tablet) == 401
    # The cache cannot bring them back either.
    get_redis_connection("durable").flushdb()
    assert me_status(phone) == me_status(laptop) == me_status(tablet) == 401

    from moderation.services import user_suspend

    user_suspend(user=moderator_target, actor=root, reason="spam ring")
    response = target.get("/api/v1/me")
    assert response.status_code == 401
    assert not AuthToken.objects.filter(user=moderator_target).exists()


@pytest.mark.django_db(transaction=True)
def test_a_revoked_token_is_not_put_back_by_a_lookup_that_raced_the_revocation(user):
    """A request that missed the cache and read the row just before the revocation must
    not re-fill the entry after it."""
    from accounts import tokens

    _, body = login(user.username)
    digest = hashlib.sha512(body["token"].encode()).hexdigest()
    tokens.token_revoke(digest=digest)
    # What the racing request would do next: store what it read before the revocation.
    tokens._redis().set(tokens._cache_key(digest), f"{user.pk}|active|0", ex=60, nx=True)
    assert tokens.token_identity(body["token"]) is None
