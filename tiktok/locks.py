"""PostgreSQL advisory locks: every lock in the system is listed in ``AdvisoryLock``.

A lock is session-level on the primary and taken without waiting: the holder runs, a
second comer is told at once and skips (the work is already being done). A worker that
dies releases its locks with its connection, so a redelivered task can start at once.
Session-level means the connection to the primary must be the process's own: a pooler in
transaction mode would hand the lock to another client (docs/operations.md, "Scaling out").
"""

from __future__ import annotations

import enum
import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections

from tiktok import db_router

logger = logging.getLogger(__name__)


class AdvisoryLock(enum.Enum):
    """Every advisory lock; a per-object lock adds the object's id as its key."""

    COUNTERS = "activity.counters"  # flush and recount of counter deltas (one at a time)
    VIDEO_PROCESS = "videos.process"  # processing of one video's original
    VIDEO_RENDITIONS = "videos.renditions"  # the follow-up renditions of one video
    VIDEO_QUARANTINE = "videos.quarantine"  # moving one video's media in or out of quarantine


def lock_id(lock: AdvisoryLock, key: object = None) -> int:
    """The 64-bit id PostgreSQL knows the lock by."""
    name = lock.value if key is None else f"{lock.value}:{key}"
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


@contextmanager
def advisory_lock(lock: AdvisoryLock, key: object = None) -> Iterator[bool]:
    """Try to take ``lock`` (for ``key``) on the primary; yields whether it was taken."""
    identifier = lock_id(lock, key)
    connection = connections[db_router.PRIMARY]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [identifier])
        acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [identifier])
            except Exception:  # noqa: BLE001 - a closed connection has released it already
                logger.warning("could not release advisory lock %s (%s)", lock.name, key)
