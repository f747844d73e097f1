"""Signed, opaque cursors: the one way a list hands a client its position.

A cursor is a compact JSON object signed with the secret key (``django.core.signing``:
HMAC-SHA256 under a salt of its own), so a client can only send back a cursor this API
issued; anything else (forged, edited, truncated, garbage) is ``400 invalid_cursor``.
Readers still bound every decoded value with the helpers below: a cursor signed under a
previous key (``SECRET_KEY_FALLBACKS``) or by older code must not reach a query as an
out-of-range number.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from django.core import signing

from tiktok.exceptions import ApplicationError

SALT = "tiktok.cursors"
# A cursor is a few dozen bytes of JSON plus a signature; anything far longer is not ours.
MAX_CURSOR_LENGTH = 512
# Times in cursors (publish or creation times) lie between these; anything else is forged.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
MAX_BIGINT = 2**63 - 1


class InvalidCursorError(ApplicationError):
    code = "invalid_cursor"

    def __init__(self):
        super().__init__("The cursor is not valid.", fields={"cursor": ["Not a cursor from this API."]})


def sign(payload: dict[str, Any]) -> str:
    """An opaque, URL-safe cursor for ``payload`` (a JSON-serialisable dict)."""
    return signing.Signer(salt=SALT).sign_object(payload)


def unsign(raw: str) -> dict[str, Any]:
    """The payload of a cursor this API signed, or ``InvalidCursorError``."""
    if not isinstance(raw, str) or not raw or len(raw) > MAX_CURSOR_LENGTH:
        raise InvalidCursorError()
    try:
        payload = signing.Signer(salt=SALT).unsign_object(raw)
    except (signing.BadSignature, ValueError, UnicodeError, TypeError) as exc:
        raise InvalidCursorError() from exc
    if not isinstance(payload, dict):
        raise InvalidCursorError()
    return payload


# --- Bounds on decoded values ---------------------------------------------------------------


def bounded_int(value: Any, *, low: int = 0, high: int = MAX_BIGINT) -> int:
    """A whole number (not a bool, not a float) from ``low`` to ``high``."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidCursorError()
    return value


def uuid_text(value: Any) -> str:
    """The canonical text of a UUID given as text."""
    if not isinstance(value, str) or len(value) > 36:
        raise InvalidCursorError()
    try:
        return str(uuid.UUID(value))
    except ValueError as exc:
        raise InvalidCursorError() from exc


def bounded_time(value: datetime) -> datetime:
    """An aware date and time between ``EARLIEST`` and ``LATEST``."""
    if value.tzinfo is None or not EARLIEST <= value <= LATEST:
        raise InvalidCursorError()
    return value


def epoch_microseconds(value: Any) -> int:
    """Epoch microseconds between ``EARLIEST`` and ``LATEST`` (feed scores)."""
    return bounded_int(value, low=int(EARLIEST.timestamp() * 1_000_000), high=int(LATEST.timestamp() * 1_000_000))
