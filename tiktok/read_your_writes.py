"""Read-your-writes across requests: after a request (or task) writes, the primary's WAL
position is kept per user in the durable Redis for ``DATABASE_WRITE_POSITION_TTL_SECONDS``;
the next request of that user reads a replica only once it has replayed that far
(``tiktok.db_router`` decides, from the scope's ``required_lsn`` set here). When the
position cannot be read the user is pinned to the primary for a while instead.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings

from tiktok.db_router import current_scope, write_position_for_scope
from tiktok.keys import WRITE_POSITION_KEY

logger = logging.getLogger(__name__)

_UNREAD = object()


def write_position_redis_key(user_id) -> str:
    """The durable Redis key (as stored) of a user's write position, for callers that
    read it in their own round trip and hand it to ``set_reader``."""
    return _durable_cache().make_key(WRITE_POSITION_KEY.format(user_id=user_id))


def set_reader(user_id: int, *, stored_position=_UNREAD) -> None:
    """Tell the router who is reading, so their own recent writes stay visible.

    ``stored_position`` is the raw value at ``write_position_redis_key(user_id)`` (None
    if absent) when the caller already read it; else it is read here.
    """
    state = current_scope()
    if state is None or state.user_id == user_id:
        return
    state.user_id = user_id
    try:
        if stored_position is _UNREAD:
            position = _durable_cache().get(WRITE_POSITION_KEY.format(user_id=user_id))
        else:
            position = None if stored_position is None else _durable_cache().client.decode(stored_position)
    except Exception:  # noqa: BLE001 - Redis down: fall back to the primary for this user
        logger.warning("write position of user %s unreadable; reading from the primary", user_id)
        state.pinned_until = time.time() + settings.DATABASE_PRIMARY_PIN_SECONDS
        return
    if not position:
        return
    kind, _, value = str(position).partition(":")
    if kind == "lsn":
        state.required_lsn = max(state.required_lsn or 0, int(value))
    elif kind == "until":
        state.pinned_until = float(value)


def remember_write_position() -> None:
    """After a scope that wrote, keep the primary's position for the reading user."""
    state = current_scope()
    if state is None or not state.wrote or state.user_id is None:
        return
    lsn = write_position_for_scope()
    ttl = settings.DATABASE_WRITE_POSITION_TTL_SECONDS
    value = f"lsn:{lsn}" if lsn is not None else f"until:{time.time() + settings.DATABASE_PRIMARY_PIN_SECONDS}"
    try:
        _durable_cache().set(WRITE_POSITION_KEY.format(user_id=state.user_id), value, timeout=ttl)
    except Exception:  # noqa: BLE001 - losing the pin only risks a briefly stale read
        logger.warning("could not store the write position of user %s", state.user_id)


def _durable_cache():
    from django.core.cache import caches

    return caches["durable"]
