"""Talking to the API as a client does: logged-in clients and the one error shape."""

from __future__ import annotations

from rest_framework.test import APIClient

from tests.factories import PASSWORD


def client_for(user) -> APIClient:
    """An API client logged in as ``user`` through the real login endpoint."""
    client = APIClient()
    response = client.post("/api/v1/auth/login", {"username": user.username, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['token']}")
    return client


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The response is an error in the API's one shape."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]
