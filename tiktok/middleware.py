"""Per-request context: request id for logs and the database routing scope; sessions
only for the requests that can use them."""

import re

from django.contrib.auth import middleware as auth_middleware
from django.contrib.messages import middleware as message_middleware
from django.contrib.sessions import middleware as session_middleware

from tiktok import db_router, read_your_writes
from tiktok.logging import new_request_id, request_id_var

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
API_PREFIX = "/api/"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # META, not request.headers: that builds a dict of every header on first use.
        incoming = request.META.get("HTTP_X_REQUEST_ID")
        request_id = incoming if incoming and _SAFE_REQUEST_ID.match(incoming) else new_request_id()
        token = request_id_var.set(request_id)
        try:
            with db_router.scope():
                if request.method not in SAFE_METHODS or request.path.startswith("/admin/"):
                    # primary: a request that writes reads what it checks there (the target
                    # of a like or follow may be seconds old), and moderators act on what
                    # they see: the admin reads the primary too.
                    with db_router.use_primary():
                        response = self.get_response(request)
                else:
                    response = self.get_response(request)
                    if response.status_code == 503 and db_router.current_scope().replica_failed:
                        # A replica died under this read (noticed by the query, not by the
                        # cached check): once more, now that it is marked down.
                        response = self.get_response(request)
                read_your_writes.remember_write_position()
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response


def is_cookieless_api_request(request) -> bool:
    """An API request without a cookie: Bearer-token clients, for whom a session lookup,
    a lazy session user and a message store are pure cost on every request."""
    return request.path.startswith(API_PREFIX) and not request.META.get("HTTP_COOKIE")


class _SkippedForCookielessApi:
    def __call__(self, request):
        if is_cookieless_api_request(request):
            return self.get_response(request)
        return super().__call__(request)


class SessionMiddleware(_SkippedForCookielessApi, session_middleware.SessionMiddleware):
    """Django's, skipped for cookie-less API requests (the admin keeps it)."""


class AuthenticationMiddleware(_SkippedForCookielessApi, auth_middleware.AuthenticationMiddleware):
    """Django's session user, skipped for cookie-less API requests (DRF sets the user)."""


class MessageMiddleware(_SkippedForCookielessApi, message_middleware.MessageMiddleware):
    """Django's messages, skipped for cookie-less API requests."""
