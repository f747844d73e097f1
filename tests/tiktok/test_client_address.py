"""The client address behind throttles and lockouts, and the session middleware skip."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from tiktok.client_address import client_address, client_limit_key
from tiktok.middleware import AuthenticationMiddleware, MessageMiddleware, SessionMiddleware


def request_from(peer: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/api/v1/feed", **extra)


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_address(request_from("203.0.113.9", "1.1.1.1, 2.2.2.2")) == "203.0.113.9"


@pytest.mark.parametrize(
    ("trusted", "forwarded", "expected"),
    [
        (1, "198.51.100.7", "198.51.100.7"),  # nginx overwrote the header
        (1, "6.6.6.6, 198.51.100.7", "198.51.100.7"),  # a proxy that appends: the client's part is ignored
        (2, "6.6.6.6, 198.51.100.7, 10.0.0.3", "198.51.100.7"),  # edge LB + nginx
        (2, "198.51.100.7", "10.0.0.2"),  # fewer entries than proxies: the peer
        (1, "not-an-address", "10.0.0.2"),
        (1, "", "10.0.0.2"),
    ],
)
def test_with_trusted_proxies_the_nth_entry_from_the_right_is_the_client(settings, trusted, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = trusted
    assert client_address(request_from("10.0.0.2", forwarded)) == expected


def test_ipv6_clients_are_limited_by_their_64_block(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    one, other = request_from("2001:db8:1:2::1"), request_from("2001:db8:1:2:ffff::9")
    assert client_limit_key(one) == client_limit_key(other) == "2001:db8:1:2::/64"
    assert client_limit_key(request_from("::ffff:192.0.2.1")) == "192.0.2.1"


def _session_chain():
    seen = {}

    def view(request):
        seen["session"] = hasattr(request, "session")
        seen["user"] = hasattr(request, "user")
        seen["messages"] = hasattr(request, "_messages")
        return HttpResponse()

    return SessionMiddleware(AuthenticationMiddleware(MessageMiddleware(view))), seen


def test_cookieless_api_requests_skip_sessions_users_and_messages():
    chain, seen = _session_chain()
    chain(RequestFactory().get("/api/v1/feed"))
    assert seen == {"session": False, "user": False, "messages": False}


@pytest.mark.parametrize("path,cookie", [("/admin/", None), ("/api/v1/feed", "sessionid=abc")])
def test_the_admin_and_requests_with_cookies_keep_them(path, cookie):
    chain, seen = _session_chain()
    chain(RequestFactory().get(path, **({"HTTP_COOKIE": cookie} if cookie else {})))
    assert seen == {"session": True, "user": True, "messages": True}
