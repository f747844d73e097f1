"""Reads for accounts."""

from accounts.models import User
from tiktok.exceptions import NotFoundError


def user_get_by_username(*, username: str) -> User:
    user = User.objects.filter(username__iexact=username, is_active=True).first()
    if user is None:
        raise NotFoundError("No such user.")
    return user
