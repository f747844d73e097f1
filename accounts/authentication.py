"""``Authorization: Bearer <token>`` authentication (django-rest-knox tokens, cached).

A warm request costs one Redis round trip (``accounts.tokens``: the token's entry and the
user's write position together) and no SQL: ``request.user`` is a ``TokenUser`` that
knows its id and is authenticated, and loads the user row only when a view needs more.
"""

from __future__ import annotations

from functools import partial

from django.utils.functional import SimpleLazyObject
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from accounts import tokens
from accounts.models import User
from tiktok import db_router, read_your_writes


def _load_user(user_id: int) -> User:
    # Read where the request reads (the router knows the reader and their last write);
    # an account made a moment ago may not be on the replica yet.
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        # primary: only when the replica lacks it: an account created a moment ago
        with db_router.use_primary():
            user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise AuthenticationFailed("User inactive or deleted.")
    return user


class TokenUser(SimpleLazyObject):
    """The authenticated user of a token request: ``pk``, ``id`` and the authentication
    flags without a query; any other attribute (or ``isinstance``) loads the row once."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, user_id: int, user: User | None = None):
        self.__dict__["_user_id"] = user_id
        super().__init__(partial(_load_user, user_id))
        if user is not None:  # already read by the token lookup
            self._wrapped = user

    @property
    def pk(self) -> int:
        return self.__dict__["_user_id"]

    id = pk

    def __bool__(self) -> bool:
        return True


class BearerTokenAuthentication(TokenAuthentication):
    """Knox's header parsing; the lookup goes through ``accounts.tokens`` (cache, then
    the primary) instead of a query per request."""

    def authenticate_header(self, request) -> str:
        return "Bearer"

    def authenticate_credentials(self, token: bytes):
        try:
            identity = tokens.token_identity(token.decode("ascii"))
        except UnicodeDecodeError:
            identity = None
        if identity is None:
            raise AuthenticationFailed("Invalid token.")
        if identity.account_state == "suspended":
            raise AuthenticationFailed("This account is suspended.", code="account_suspended")
        if identity.account_state != "active":
            raise AuthenticationFailed("User inactive or deleted.")
        if identity.stored_position is ...:
            read_your_writes.set_reader(identity.user_id)
        else:
            read_your_writes.set_reader(identity.user_id, stored_position=identity.stored_position)
        return TokenUser(identity.user_id, identity.user), identity


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """The OpenAPI security scheme of ``BearerTokenAuthentication``."""

    target_class = BearerTokenAuthentication
    name = "BearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer"}
