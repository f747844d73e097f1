"""Registration, login, logout and profiles through the API."""

import pytest

from accounts.models import User
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def register(client, **data):
    return client.post("/api/v1/auth/register", data, format="json")


def test_register_login_me_logout_round_trip(api_client):
    created = register(api_client, username="Newbie", password="a-long-password-1", email="n@example.com")
    assert created.status_code == 201, created.content
    # Stored in its canonical form; the name as typed is the display name.
    assert (created.json()["username"], created.json()["display_name"]) == ("newbie", "Newbie")
    login = api_client.post(
        "/api/v1/auth/login", {"username": "NEWBIE", "password": "a-long-password-1"}, format="json"
    )
    assert login.status_code == 200
    token = login.json()["token"]
    assert login.json()["expires_at"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    me = api_client.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["username"] == "newbie"
    assert api_client.post("/api/v1/auth/logout").status_code == 204
    assert api_client.get("/api/v1/me").status_code == 401


def test_usernames_are_unique_whatever_their_case(api_client):
    assert register(api_client, username="Carla", password="a-long-password-1").status_code == 201
    again = register(api_client, username="CARLA", password="a-long-password-1")
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "username_taken"
    assert User.objects.filter(username__iexact="carla").count() == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"password": "a-long-password-1"}, "username"),
        ({"username": "x", "password": "a-long-password-1"}, "username"),
        ({"username": "has space", "password": "a-long-password-1"}, "username"),
        ({"username": "valid_name"}, "password"),
        ({"username": "valid_name", "password": "short"}, "password"),
        ({"username": "valid_name", "password": "12345678901"}, "password"),
        ({"username": "valid_name", "password": "a-long-password-1", "email": "nope"}, "email"),
    ],
)
def test_registration_rejects_bad_input_with_field_errors(api_client, payload, field):
    response = register(api_client, **payload)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" or error["fields"]
    assert field in error["fields"]
    assert not User.objects.filter(username="valid_name").exists()


def test_wrong_password_is_401_and_gives_no_token(api_client, user):
    response = api_client.post("/api/v1/auth/login", {"username": user.username, "password": "wrong"}, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"


def test_bad_token_is_401(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-real-token")
    response = api_client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_patch_me_changes_display_name_and_bio_only(auth_client, user):
    response = auth_client.patch(
        "/api/v1/me",
        {"display_name": "  Shown  ", "bio": "hi", "username": "hijack", "followers_count": 99},
        format="json",
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert (user.display_name, user.bio, user.username, user.followers_count) == ("Shown", "hi", user.username, 0)


def test_patch_me_rejects_overlong_bio(auth_client):
    response = auth_client.patch("/api/v1/me", {"bio": "x" * 301}, format="json")
    assert response.status_code == 400
    assert "bio" in response.json()["error"]["fields"]


def test_public_profile_shows_counts_and_viewer_flag(api_client, auth_client, make_user):
    other = make_user(username="Creator")
    anonymous = api_client.get("/api/v1/users/creator")
    assert anonymous.status_code == 200
    body = anonymous.json()
    assert body["username"] == "Creator"
    assert body["counts"] == {"followers": 0, "following": 0}
    assert body["viewer"] is None
    assert auth_client.get(f"/api/v1/users/{other.username}").json()["viewer"] == {"following": False}
    assert api_client.get("/api/v1/users/nobody-here").status_code == 404


def test_login_is_throttled_with_retry_after(api_client, settings, user):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "auth": "3/min"},
    }
    statuses = [
        api_client.post(
            "/api/v1/auth/login", {"username": user.username, "password": PASSWORD}, format="json"
        ).status_code
        for _ in range(5)
    ]
    assert statuses[:3] == [200, 200, 200]
    assert statuses[3:] == [429, 429]
    throttled = api_client.post("/api/v1/auth/login", {"username": user.username, "password": PASSWORD}, format="json")
    assert throttled.json()["error"]["code"] == "throttled"
    assert int(throttled["Retry-After"]) >= 1


def test_suspended_user_cannot_log_in_or_use_a_token(api_client, user):
    from django.utils import timezone

    from tests.helpers.api import client_for

    client = client_for(user)
    user.suspended_at = timezone.now()
    user.save()
    assert client.get("/api/v1/me").status_code == 401
    response = api_client.post("/api/v1/auth/login", {"username": user.username, "password": PASSWORD}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "account_suspended"
