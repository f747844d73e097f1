"""Writes for accounts: registration, login and tokens, passwords, profile changes, the
suspension flag (which also ends every session and token of the user)."""

from __future__ import annotations

import unicodedata

from django.contrib.auth import SESSION_KEY, password_validation
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import login_guard, tokens
from accounts.login_guard import LoginLockedError
from accounts.models import USERNAME_PATTERN, USERNAME_RULE, User, normalize_username
from tiktok import db_router, read_your_writes
from tiktok.exceptions import ApplicationError, NotFoundError

__all__ = ["LoginLockedError"]  # raised by user_authenticate; callers catch it from here

DISPLAY_NAME_MAX_LENGTH = 64


def user_create(*, username: str, password: str, email: str = "") -> User:
    """Create a user under the canonical form of ``username`` (``normalize_username``),
    which must fit ``USERNAME_PATTERN``; the name as typed becomes the display name."""
    typed = unicodedata.normalize("NFKC", username).strip()
    username = normalize_username(username)
    if not USERNAME_PATTERN.match(username):
        raise ApplicationError("That username is not allowed.", fields={"username": [USERNAME_RULE]})
    candidate = User(username=username, email=email)
    try:
        password_validation.validate_password(password, user=candidate)
    except DjangoValidationError as exc:
        raise ApplicationError("The password is too weak.", fields={"password": list(exc.messages)}) from exc
    # primary: a name taken a moment ago must count as taken
    with db_router.use_primary():
        taken = User.objects.filter(username=username).exists()
    if taken:
        raise ApplicationError("That username is taken.", code="username_taken", fields={"username": ["Taken."]})
    try:
        with transaction.atomic():
            return User.objects.create_user(
                username=username, password=password, email=email, display_name=typed[:DISPLAY_NAME_MAX_LENGTH]
            )
    except IntegrityError as exc:  # two registrations raced for the same name
        raise ApplicationError(
            "That username is taken.", code="username_taken", fields={"username": ["Taken."]}
        ) from exc


def user_authenticate(*, username: str, password: str, address: str) -> User:
    """The user whose password this is, for the API login and the admin login alike.

    ``address`` is the client's (``tiktok.client_address.client_limit_key``); failures
    are slowed by ``accounts.login_guard``. Raises ``LoginLockedError`` (429), a 401
    ``invalid_credentials``, or a 403 ``account_suspended`` for the right password of a
    suspended account.
    """
    account = normalize_username(username)
    login_guard.login_check(account=account, address=address)
    # primary: the account may have been created a moment ago
    with db_router.use_primary():
        user = User.objects.filter(username=account).first()
        if user is None:
            User().set_password(password)  # as slow as a real check: no user enumeration
            valid = False
        else:
            valid = user.check_password(password) and user.is_active
    if not valid:
        login_guard.login_failed(account=account, address=address)
        raise ApplicationError("Wrong username or password.", code="invalid_credentials", status_code=401)
    login_guard.login_succeeded(account=account, address=address)
    if user.suspended_at is not None:
        raise ApplicationError("This account is suspended.", code="account_suspended", status_code=403)
    return user


def user_login(*, username: str, password: str, address: str) -> tokens.IssuedToken:
    """Check the password and issue a token for one more device of the user."""
    user = user_authenticate(username=username, password=password, address=address)
    # The user's next requests read what this one wrote (their new token's row).
    read_your_writes.set_reader(user.pk)
    return tokens.token_create(user=user)


def user_logout(*, token_digest: str) -> None:
    """Revoke the token of this device."""
    tokens.token_revoke(digest=token_digest)


def user_logout_everywhere(*, user_id: int) -> int:
    """Revoke every token of the user (every device); returns how many."""
    return tokens.tokens_revoke_for_user(user_id=user_id)


def user_change_password(*, user: User, current_password: str, new_password: str) -> tokens.IssuedToken:
    """Set a new password after checking the current one; every device is signed out
    and this one gets a fresh token."""
    # primary: the current password is checked against the latest hash
    with db_router.use_primary():
        user = User.objects.get(pk=user.pk)
    if not user.check_password(current_password):
        raise ApplicationError(
            "The current password is wrong.", code="invalid_credentials",
            fields={"current_password": ["Wrong password."]},
        )  # fmt: skip
    try:
        password_validation.validate_password(new_password, user=user)
    except DjangoValidationError as exc:
        raise ApplicationError("The password is too weak.", fields={"new_password": list(exc.messages)}) from exc
    user.set_password(new_password)
    user.save(update_fields=["password"])
    user_credentials_revoke(user=user)
    return tokens.token_create(user=user)


def user_credentials_revoke(*, user: User, sessions: bool = False) -> None:
    """Sign the user out of every device: all tokens, and (``sessions``) every admin session.

    After a password set elsewhere (the admin), Django's session hash already ends the
    old sessions; suspension ends them here.
    """
    tokens.tokens_revoke_for_user(user_id=user.pk)
    if sessions:
        _sessions_delete_for_user(user.pk)


def _sessions_delete_for_user(user_id: int) -> int:
    """Delete the user's sessions. Only staff use sessions (the API uses tokens), so the
    live sessions are few and are decoded one by one rather than indexed."""
    now = timezone.now()
    # primary: a session opened a moment ago must be ended too
    with db_router.use_primary():
        keys = [
            session.session_key
            for session in Session.objects.filter(expire_date__gt=now).iterator()
            if session.get_decoded().get(SESSION_KEY) == str(user_id)
        ]
    if not keys:
        return 0
    deleted, _ = Session.objects.filter(session_key__in=keys).delete()
    return deleted


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

    Suspending ends every token and admin session of the user before it returns
    (authentication and the admin refuse suspended users too). ``moderation.services``
    checks who may do it, writes the audit entry and takes the user's videos out of feeds.
    """
    with transaction.atomic():
        locked = _locked_user(user)
        if (locked.suspended_at is not None) != suspended:
            locked.suspended_at = timezone.now() if suspended else None
            locked.suspension_reason = reason.strip()[:SUSPENSION_REASON_MAX_LENGTH] if suspended else ""
            locked.save(update_fields=["suspended_at", "suspension_reason"])
            if suspended:
                user_credentials_revoke(user=locked, sessions=True)
    user.suspended_at, user.suspension_reason = locked.suspended_at, locked.suspension_reason
    return locked
