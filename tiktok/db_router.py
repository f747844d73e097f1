"""Primary/replica routing: the one place that decides which database serves a query.

Writes, migrations, transactions and anything after a write in the same request or task
go to the primary. Other reads go to a healthy streaming replica, chosen at random,
unless:

* the reader's last write has not been replayed there yet (read-your-writes by WAL
  position: after a request writes, the primary's WAL insert position is kept for
  that user; a replica serves them again once its ``pg_last_wal_replay_lsn()`` reaches
  it; when the position cannot be read the user is pinned to the primary for a while);
* the replica lags more than ``DATABASE_REPLICA_MAX_LAG_SECONDS`` or cannot be reached,
  in which case it is skipped for ``DATABASE_REPLICA_RETRY_SECONDS``.

In every such case the primary serves and nothing fails. A *scope* is one request or
one task: replica state is checked at most once per scope, and a task enqueued after a
write carries the primary's position so the worker reads what the request wrote.
"""

from __future__ import annotations

import contextvars
import logging
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from tiktok.keys import WRITE_POSITION_KEY

logger = logging.getLogger(__name__)

PRIMARY = DEFAULT_DB_ALIAS


@dataclass
class ReplicaState:
    healthy: bool
    replay_lsn: int = 0
    lag_seconds: float = 0.0
    checked_at: float = field(default_factory=time.monotonic)


@dataclass
class Scope:
    """What the router knows about the current request or task."""

    user_id: int | None = None
    required_lsn: int | None = None
    pinned_until: float | None = None
    wrote: bool = False
    write_lsn: int | None = None
    force_primary: int = 0
    primary_ok: bool | None = None
    replicas: dict[str, ReplicaState] = field(default_factory=dict)


_scope: contextvars.ContextVar[Scope | None] = contextvars.ContextVar("db_router_scope", default=None)
# Replicas that failed: alias -> monotonic time before which they are not tried.
_down_until: dict[str, float] = {}
# Outside any scope (shell, management commands): alias -> last state, re-checked by age.
_unscoped_states: dict[str, ReplicaState] = {}


def replica_aliases() -> list[str]:
    return [alias for alias in settings.DATABASES if alias != PRIMARY]


def current_scope() -> Scope | None:
    return _scope.get()


@contextmanager
def scope(*, required_lsn: int | None = None) -> Iterator[Scope]:
    """Run a request or task in its own routing scope."""
    state = Scope(required_lsn=required_lsn)
    token = _scope.set(state)
    try:
        yield state
    finally:
        _scope.reset(token)


@contextmanager
def use_primary() -> Iterator[None]:
    """Read from the primary inside this block (e.g. token lookups, admin)."""
    state = _scope.get()
    if state is None:
        with scope() as state, use_primary():
            yield
        return
    state.force_primary += 1
    try:
        yield
    finally:
        state.force_primary -= 1


@contextmanager
def reading_everything_committed() -> Iterator[None]:
    """Reads inside the block see everything committed on the primary before it began:
    a replica serves them only once it has replayed that far, else the primary does.

    For work that acts on what it does *not* find (a feed rebuild replaces the feed with
    what it reads): a lagging replica must not make recent videos vanish. If the
    primary cannot be asked, replicas serve as usual (a stale read beats none).
    """
    state = _scope.get()
    if state is None:
        with scope(), reading_everything_committed():
            yield
        return
    try:
        position = primary_wal_position()
    except Exception:  # noqa: BLE001 - the primary is down: replicas are all there is
        logger.warning("primary position unreadable; reading replicas as they are")
        yield
        return
    previous_lsn, previous_states = state.required_lsn, state.replicas
    state.required_lsn = max(previous_lsn or 0, position)
    state.replicas = {}  # ask the replicas again how far they are
    try:
        yield
    finally:
        state.required_lsn, state.replicas = previous_lsn, previous_states


def set_reader(user_id: int) -> None:
    """Tell the router who is reading, so their own recent writes stay visible."""
    state = _scope.get()
    if state is None or state.user_id == user_id:
        return
    state.user_id = user_id
    try:
        position = _durable_cache().get(WRITE_POSITION_KEY.format(user_id=user_id))
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


def primary_wal_position() -> int:
    """The primary's WAL insert position in bytes.

    The insert position, not ``pg_current_wal_lsn()`` (the write position): with
    ``synchronous_commit=off`` a just-committed transaction may not be written yet, and
    a replica that replayed up to the write position would still miss it.
    """
    with connections[PRIMARY].cursor() as cursor:
        cursor.execute("SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint")
        return int(cursor.fetchone()[0])


def write_position_for_scope() -> int | None:
    """The primary's WAL position after this scope's writes (None if it wrote nothing)."""
    state = _scope.get()
    if state is None or not state.wrote:
        return None
    if state.write_lsn is None:
        try:
            state.write_lsn = primary_wal_position()
        except Exception:  # noqa: BLE001 - the primary itself is failing; the caller pins by time
            logger.warning("could not read the primary's WAL position", exc_info=True)
            return None
    return state.write_lsn


def position_for_subtasks() -> int | None:
    """The WAL position a task enqueued now must read at least: this scope's own writes,
    else the position this scope was itself required to read (carried down a chain of
    tasks: publish -> fan-out -> batches)."""
    written = write_position_for_scope()
    if written is not None:
        return written
    state = _scope.get()
    return state.required_lsn if state is not None else None


def remember_write_position() -> None:
    """After a scope that wrote, keep the primary's position for the reading user."""
    state = _scope.get()
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


def check_replica(alias: str) -> ReplicaState:
    """Ask a replica how far it has replayed; mark it down if it does not answer."""
    connection = connections[alias]
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_is_in_recovery(),"
                " (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint,"
                # Replayed all it received (or not streaming: primary down) = no lag.
                " CASE WHEN pg_last_wal_receive_lsn() IS NULL"
                " OR pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0"
                " ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END"
            )
            in_recovery, replay_lsn, lag = cursor.fetchone()
    except Exception:  # noqa: BLE001 - any failure means: do not read from it now
        logger.warning("replica %s unreachable; reading from the primary", alias)
        try:
            connection.close()
        except Exception:  # noqa: BLE001, S110 - the connection is already broken
            pass
        _down_until[alias] = time.monotonic() + settings.DATABASE_REPLICA_RETRY_SECONDS
        return ReplicaState(healthy=False)
    lag = float(lag or 0)
    healthy = bool(in_recovery) and lag <= settings.DATABASE_REPLICA_MAX_LAG_SECONDS
    if not healthy:
        logger.warning("replica %s skipped: in_recovery=%s lag=%.1fs", alias, in_recovery, lag)
        _down_until[alias] = time.monotonic() + settings.DATABASE_REPLICA_RETRY_SECONDS
    return ReplicaState(healthy=healthy, replay_lsn=int(replay_lsn or 0), lag_seconds=lag)


def replica_state(alias: str) -> ReplicaState:
    state = _scope.get()
    cache = state.replicas if state is not None else _unscoped_states
    known = cache.get(alias)
    if known is not None and (
        state is not None or time.monotonic() - known.checked_at < settings.DATABASE_REPLICA_CHECK_SECONDS
    ):
        return known
    known = check_replica(alias)
    cache[alias] = known
    return known


def choose_read_alias() -> str:
    state = _scope.get()
    if state is not None:
        if state.force_primary or state.wrote:
            return PRIMARY
        if state.pinned_until is not None and time.time() < state.pinned_until:
            return PRIMARY
    if connections[PRIMARY].in_atomic_block:
        return PRIMARY
    now = time.monotonic()
    candidates = [alias for alias in replica_aliases() if _down_until.get(alias, 0) <= now]
    if not candidates:
        return PRIMARY
    random.shuffle(candidates)
    required = state.required_lsn if state is not None else None
    behind = None
    for alias in candidates:
        replica = replica_state(alias)
        if replica.healthy and (required is None or replica.replay_lsn >= required):
            return alias
        if replica.healthy:
            behind = alias
    if behind is not None and not primary_available():
        # The reader's last write is not on the replica yet, but the primary is down: a
        # slightly stale read beats a failed one.
        return behind
    return PRIMARY


def primary_available() -> bool:
    """Whether the primary answers (checked at most once a scope; failures remembered)."""
    state = _scope.get()
    if state is not None and state.primary_ok is not None:
        return state.primary_ok
    if _down_until.get(PRIMARY, 0) > time.monotonic():
        ok = False
    else:
        try:
            with connections[PRIMARY].cursor() as cursor:
                cursor.execute("SELECT 1")
            ok = True
        except Exception:  # noqa: BLE001 - any failure means it cannot serve now
            logger.warning("primary unreachable; pinned reads fall back to a replica")
            try:
                connections[PRIMARY].close()
            except Exception:  # noqa: BLE001, S110 - already broken
                pass
            _down_until[PRIMARY] = time.monotonic() + settings.DATABASE_REPLICA_RETRY_SECONDS
            ok = False
    if state is not None:
        state.primary_ok = ok
    return ok


def mark_write() -> None:
    state = _scope.get()
    if state is not None:
        state.wrote = True
        state.write_lsn = None


class PrimaryReplicaRouter:
    """Django database router; see the module docstring."""

    def db_for_read(self, model, **hints):
        return choose_read_alias()

    def db_for_write(self, model, **hints):
        mark_write()
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == PRIMARY
