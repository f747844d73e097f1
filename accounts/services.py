"""Writes for accounts: registration, login tokens, profile changes, the suspension flag."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate, password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.models import User
from tiktok import db_router
from tiktok.exceptions import ApplicationError, NotFoundError
from tiktok.keys import LOGIN_FAILURES_KEY


class LoginLockedError(ApplicationError):
    status_code = 429
    code = "login_locked"

    def __init__(self, retry_after: int):
        super().__init__(f"Too many failed logins; try again in {retry_after} seconds.")
        self.retry_after = retry_after


def user_create(*, username: str, password: str, email: str = "") -> User:
    """Create a user; usernames are unique whatever their case."""
    candidate = User(username=username, email=email)
    try:
        password_validation.validate_password(password, user=candidate)
    except DjangoValidationError as exc:
        raise ApplicationError("The password is too weak.", fields={"password": list(exc.messages)}) from exc
    with db_router.use_primary():
        taken = User.objects.filter(username__iexact=username).exists()
    if taken:
        raise ApplicationError("That username is taken.", code="username_taken", fields={"username": ["Taken."]})
    try:
        with transaction.atomic():
            return User.objects.create_user(username=username, password=password, email=email)
    except IntegrityError as exc:  # two registrations raced for the same name
        raise ApplicationError(
            "That username is taken.", code="username_taken", fields={"username": ["Taken."]}
        ) from exc


def _failure_keys(username: str, address: str) -> list[str]:
    return [
        LOGIN_FAILURES_KEY.format(kind="user", ident=username.lower()),
        LOGIN_FAILURES_KEY.format(kind="ip", ident=address),
    ]


def _durable():
    from django.core.cache import caches

    return caches["durable"]


def user_login(*, username: str, password: str, address: str) -> str:
    """Check the password and return the user's API token (one token per user)."""
    keys = _failure_keys(username, address)
    limit = settings.LOGIN_FAILURE_LIMIT
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    cache = _durable()
    counts = cache.get_many(keys)
    if any(int(count) >= limit for count in counts.values()):
        ttl = max(int(cache.ttl(key) or 0) for key in keys)
        raise LoginLockedError(retry_after=max(ttl, 1))

    # The account may have been created a moment ago: check it on the primary.
    with db_router.use_primary():
        user = authenticate(username=username, password=password)
    if user is None:
        for key in keys:
            cache.add(key, 0, timeout=window)
            cache.incr(key)
        raise ApplicationError("Wrong username or password.", code="invalid_credentials", status_code=401)
    if user.suspended_at is not None:
        raise ApplicationError("This account is suspended.", code="account_suspended", status_code=403)
    cache.delete_many(keys)
    token, _ = Token.objects.get_or_create(user=user)
    return token.key


def user_logout(*, user: User) -> None:
    """Revoke the user's token."""
    Token.objects.filter(user=user).delete()


def user_update_profile(*, user: User, display_name: str | None = None, bio: str | None = None) -> User:
    fields = []
    if display_name is not None:
        user.display_name = display_name
        fields.append("display_name")
    if bio is not None:
        user.bio = bio
        fields.append("bio")
    if fields:
        user.save(update_fields=fields)
    return user


# --- Suspension (the moderation app decides, audits and updates feeds) ---------------

SUSPENSION_REASON_MAX_LENGTH = 300


def _locked_user(user: User) -> User:
    locked = User.objects.select_for_update().filter(pk=user.pk).first()
    if locked is None:
        raise NotFoundError("No such user.")
    return locked


def user_set_suspended(*, user: User, suspended: bool, reason: str = "") -> User:
    """Suspend ``user`` (with ``reason``) or lift the suspension; a no-op if already so.

    Suspending revokes the user's API tokens at once (authentication refuses suspended
    users too). Only the row changes here: ``moderation.services`` checks who may do
    it, writes the audit entry and takes the user's videos out of feeds.
    """
    with transaction.atomic():
        locked = _locked_user(user)
        if (locked.suspended_at is not None) != suspended:
            locked.suspended_at = timezone.now() if suspended else None
            locked.suspension_reason = reason.strip()[:SUSPENSION_REASON_MAX_LENGTH] if suspended else ""
            locked.save(update_fields=["suspended_at", "suspension_reason"])
            if suspended:
                Token.objects.filter(user_id=locked.pk).delete()
    user.suspended_at, user.suspension_reason = locked.suspended_at, locked.suspension_reason
    return locked
