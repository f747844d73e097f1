"""Bearer tokens: issue, authenticate, revoke.

Rows are django-rest-knox ``AuthToken``s: the SHA-512 digest of the token (never the
token itself), the user, created and expiry times; one row per device, at most
``TOKEN_LIMIT_PER_USER``. The primary is the source of truth.

Each token in use also has an entry in the durable Redis (``TOKEN_CACHE_KEY``, by
digest): ``"<user id>|<account state>|<expiry epoch>"`` for ``TOKEN_CACHE_SECONDS``
(never past the token's expiry). One script reads the entry and the user's write
position (``tiktok.db_router``) together, so a warm authenticated request costs one
Redis round trip and no SQL. A miss reads the primary (a replica may not have replayed a
revocation yet) and fills the entry only if the key is absent (``SET NX``).

Revocation (logout, logout everywhere, password change, suspension) first writes the
marker ``revoked`` over each entry, kept ``TOKEN_CACHE_SECONDS``, then deletes the rows:
the very next request fails whatever the replica lag, and a request that missed the
cache just before cannot put a live entry back. If Redis cannot take the marker the
revocation fails (and says so) rather than leave a token working.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone
from django_redis import get_redis_connection
from knox.crypto import hash_token
from knox.models import AuthToken

from accounts.models import User
from tiktok import db_router, read_your_writes
from tiktok.keys import TOKEN_CACHE_KEY
from tiktok.redis_scripts import load_redis_script

logger = logging.getLogger(__name__)

REVOKED = b"revoked"
# What knox issues: 64 hex characters (no prefix). Anything else fails without any I/O.
_TOKEN_SHAPE = re.compile(r"^[0-9a-f]{64}$")

# The entry and the write position in one round trip (``accounts/scripts/token_lookup.lua``).
_LOOKUP_SCRIPT = load_redis_script("accounts", "token_lookup.lua")


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime | None


@dataclass(frozen=True)
class TokenIdentity:
    """Who a valid token speaks for, as authentication needs it."""

    digest: str
    user_id: int
    account_state: str  # "active", "suspended" or "inactive"
    expires_at: float  # epoch seconds; 0 = never
    # The user's raw write position from the same round trip; None if absent; ``...``
    # when it was not read (cache unavailable): the router reads it itself.
    stored_position: object = ...
    # The user row, when the lookup read it anyway (a cache miss): saves loading it again.
    user: User | None = field(default=None, compare=False, repr=False)


def token_digest(token: str) -> str:
    """What is stored for ``token`` (knox's SHA-512 hex digest): for tools that write
    token rows in bulk (benchmark seeding) next to ``token[:15]`` as the row's key."""
    return hash_token(token)


def _redis():
    return get_redis_connection("durable")


def _cache_key(digest: str) -> str:
    return TOKEN_CACHE_KEY.format(digest=digest)


# --- Issue ----------------------------------------------------------------------------


def token_create(*, user: User) -> IssuedToken:
    """A new token for one more device of ``user``; beyond ``TOKEN_LIMIT_PER_USER`` the
    oldest devices are signed out."""
    # primary: which devices to sign out is decided now, and a token made a moment ago counts
    with db_router.use_primary():
        oldest = list(
            AuthToken.objects.filter(user_id=user.pk)
            .order_by("-created")
            .values_list("digest", flat=True)[settings.TOKEN_LIMIT_PER_USER - 1 :]
        )
    if oldest:
        _revoke_digests(oldest)
    row, token = AuthToken.objects.create(user=user)
    return IssuedToken(token=token, expires_at=row.expiry)


# --- Authenticate ---------------------------------------------------------------------


def token_identity(token: str) -> TokenIdentity | None:
    """The identity behind ``token``, or None if it is unknown, revoked or expired."""
    if not _TOKEN_SHAPE.match(token):
        return None
    digest = hash_token(token)
    try:
        entry, position = _lookup(digest)
    except Exception:  # noqa: BLE001 - Redis unavailable: the database answers alone
        logger.warning("token cache unavailable; reading tokens from the database")
        return _identity_from_database(digest, fill=False)
    if entry == REVOKED:
        return None
    if entry is None:
        return _identity_from_database(digest, fill=True)
    user_id, account_state, expires_at = entry.decode().split("|")
    identity = TokenIdentity(
        digest=digest, user_id=int(user_id), account_state=account_state, expires_at=float(expires_at),
        stored_position=position,
    )  # fmt: skip
    return identity if _unexpired(identity.expires_at) else None


def _lookup(digest: str) -> tuple[bytes | None, bytes | None]:
    before, _, after = read_your_writes.write_position_redis_key("{user_id}").partition("{user_id}")
    entry, position = _LOOKUP_SCRIPT(_redis(), keys=[_cache_key(digest)], args=[before, after])
    return entry, position


def _unexpired(expires_at: float) -> bool:
    return not expires_at or expires_at > time.time()


def _token_row(digest: str, alias: str | None = None) -> AuthToken | None:
    rows = AuthToken.objects.using(alias) if alias else AuthToken.objects  # replica: only when the primary is down
    return rows.select_related("user").filter(digest=digest).first()


def _identity_from_database(digest: str, *, fill: bool) -> TokenIdentity | None:
    try:
        # primary: a cache miss is rare; a token issued a moment ago may not be on a replica yet
        with db_router.use_primary():
            row = _token_row(digest)
    except (OperationalError, InterfaceError):
        # The primary is down. A replica may lag, but a token revoked in the last
        # TOKEN_CACHE_SECONDS is still caught by its marker (checked before this).
        alias = db_router.choose_read_alias()
        if alias == db_router.PRIMARY:
            raise
        logger.warning("primary unavailable; token read from %s", alias)
        row = _token_row(digest, alias)
    if row is None:
        return None
    user = row.user
    expires_at = row.expiry.timestamp() if row.expiry is not None else 0.0
    if not _unexpired(expires_at):
        return None
    account_state = "inactive" if not user.is_active else "suspended" if user.suspended_at is not None else "active"
    identity = TokenIdentity(
        digest=digest, user_id=user.pk, account_state=account_state, expires_at=expires_at, user=user
    )
    if fill:
        ttl = settings.TOKEN_CACHE_SECONDS
        if expires_at:
            ttl = min(ttl, max(1, int(expires_at - time.time())))
        value = f"{user.pk}|{account_state}|{expires_at:.0f}"
        try:
            _redis().set(_cache_key(digest), value, ex=ttl, nx=True)
        except Exception:  # noqa: BLE001 - the next request reads the database again
            logger.warning("token cache unavailable; entry not stored")
    return identity


# --- Revoke ---------------------------------------------------------------------------


def _mark_revoked(digests: list[str]) -> None:
    pipe = _redis().pipeline(transaction=False)
    for digest in digests:
        pipe.set(_cache_key(digest), REVOKED, ex=settings.TOKEN_CACHE_SECONDS)
    pipe.execute()


def _revoke_digests(digests: list[str]) -> int:
    if not digests:
        return 0
    _mark_revoked(digests)
    with transaction.atomic(using=db_router.PRIMARY):
        deleted, _ = AuthToken.objects.filter(digest__in=digests).delete()
    return deleted


def token_revoke(*, digest: str) -> None:
    """Sign one device out (logout): its token fails from the next request on."""
    _revoke_digests([digest])


def tokens_revoke_for_user(*, user_id: int) -> int:
    """Sign every device of a user out (logout everywhere, new password, suspension)."""
    # primary: a device signed in a moment ago must be signed out too
    with db_router.use_primary():
        digests = list(AuthToken.objects.filter(user_id=user_id).values_list("digest", flat=True))
    return _revoke_digests(digests)


def tokens_delete_expired() -> int:
    """Delete expired rows (their cache entries expire with them)."""
    with transaction.atomic(using=db_router.PRIMARY):
        deleted, _ = AuthToken.objects.filter(expiry__lt=timezone.now()).delete()
    return deleted
