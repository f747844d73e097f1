"""Reads for accounts."""

from django.db.models import Value
from django.db.models.functions import Lower

from accounts.models import User
from tiktok.exceptions import NotFoundError


def user_get_by_username(*, username: str) -> User:
    # lower() = lower(), the unique index's expression (``iexact`` compiles to UPPER() and
    # cannot use it: a sequential scan on every follow, block and profile).
    user = User.objects.alias(name=Lower("username")).filter(name=Lower(Value(username)), is_active=True).first()
    if user is None:
        raise NotFoundError("No such user.")
    return user
