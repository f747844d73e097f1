"""Primary/replica routing: the one place that decides which database serves a query.

Writes, migrations, transactions and anything after a write in the same request or task
go to the primary. Other reads go to a healthy streaming replica, chosen at random,
unless:

* the reader's last write has not been replayed there yet (read-your-writes by WAL
  position: after a request writes, the primary's WAL flush position, which covers
  its commit, is kept for that user; a replica serves them again once its ``pg_last_wal_replay_lsn()`` reaches
  it; when the position cannot be read the user is pinned to the primary for a while;
  keeping and reading that position per user is ``tiktok/read_your_writes.py``);
* the replica lags more than ``DATABASE_REPLICA_MAX_LAG_SECONDS`` or cannot be reached,
  in which case it is skipped for ``DATABASE_REPLICA_RETRY_SECONDS``.

In every such case the primary serves and nothing fails. A *scope* is one request or
one task. Each process keeps every replica's last known state for
``DATABASE_REPLICA_CHECK_SECONDS`` (a few hundred ms), so most requests ask no replica
anything; a reader whose own write is past the known replay position asks again (once
per scope) before falling back to the primary, so read-your-writes stays exact. A task
enqueued after a write carries the primary's position so the worker reads what the
request wrote.
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

logger = logging.getLogger(__name__)

PRIMARY = DEFAULT_DB_ALIAS


@dataclass
class ReplicaState:
    healthy: bool
    replay_lsn: int = 0
    lag_seconds: float = 0.0
    streaming: bool = True  # a WAL receiver is connected to the primary
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
    replica_failed: bool = False  # a replica broke during this scope (see replicas_failed)


_scope: contextvars.ContextVar[Scope | None] = contextvars.ContextVar("db_router_scope", default=None)
# Replicas that failed: alias -> monotonic time before which they are not tried.
_down_until: dict[str, float] = {}
# This process's last check of each replica: alias -> state, re-checked by age.
_process_states: dict[str, ReplicaState] = {}


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
def prefer_primary() -> Iterator[None]:
    """Read from the primary inside this block while it answers; while it is down, read
    where everyone else does (a replica) instead of failing. For reads on a GET path that
    want the newest rows but must not turn an outage into a 503 (e.g. rebuilding a
    viewer's cached flags). Under pg_auto_failover the standby is synchronous, so what it
    serves includes every acknowledged write."""
    if primary_available():
        with use_primary():
            yield
    else:
        yield


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


def primary_wal_position() -> int:
    """The primary's WAL flush position in bytes: the end of the WAL it has made durable,
    which includes the commit record of every transaction acknowledged so far
    (``synchronous_commit = on``: a commit returns only once its record is flushed).

    It is also the furthest a replica can get: the primary streams only flushed WAL, and a
    replica that has replayed everything reports the end of the last record. The insert
    position (``pg_current_wal_insert_lsn()``) is no target: when the last record ends at
    a page boundary it points past the next page's header, so on a quiet primary a replica
    holding every commit would look behind until more WAL arrives.
    """
    with connections[PRIMARY].cursor() as cursor:
        cursor.execute("SELECT (pg_current_wal_flush_lsn() - '0/0'::pg_lsn)::bigint")
        return int(cursor.fetchone()[0])


def write_position_for_scope() -> int | None:
    """The primary's WAL position after this scope's writes (None if it wrote nothing)."""
    state = _scope.get()
    if state is None or not state.wrote:
        return None
    if state.write_lsn is None:
        if _down_until.get(PRIMARY, 0) > time.monotonic():
            return None  # known down: the caller pins by time without another attempt
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


# A replica's state and its WAL receiver's, in one round trip. ``status`` and
# ``last_msg_receipt_time`` are NULL for a role without pg_read_all_stats: the receiver's
# presence is judged then, its silence not.
_REPLICA_STATE_SQL = (
    "SELECT pg_is_in_recovery(),"
    " (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint,"
    # Replayed all it received = no lag (whether it still receives is checked below).
    " CASE WHEN pg_last_wal_receive_lsn() IS NULL"
    " OR pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0"
    " ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END,"
    " receiver.pid IS NOT NULL AND COALESCE(receiver.status, 'streaming') = 'streaming',"
    " EXTRACT(EPOCH FROM clock_timestamp() - receiver.last_msg_receipt_time)"
    " FROM (SELECT 1) AS one LEFT JOIN pg_stat_wal_receiver AS receiver ON true"
)


def _stream_ok(*, alias: str, streaming: bool, silent_seconds: float | None, replay_lsn: int) -> bool:
    """Whether a replica that replayed all it received is really current.

    "Replayed all it received" says nothing once the stream stopped: with no WAL receiver
    (streaming off, primary_conninfo broken, walsender killed) it would report lag 0
    forever. Then, while the primary answers, the replica is not served. A receiver that
    has been silent for ``DATABASE_REPLICA_RECEIVER_SILENCE_SECONDS`` is fine only if the
    replica has replayed the primary's current position (an idle primary sends nothing).
    With the primary down the replica is all there is and serves as it is.
    """
    silent = silent_seconds is not None and silent_seconds > settings.DATABASE_REPLICA_RECEIVER_SILENCE_SECONDS
    if streaming and not silent:
        return True
    if not primary_available():
        return True
    if not streaming:
        logger.warning("replica %s is not streaming from the primary", alias)
        return False
    try:
        current = replay_lsn >= primary_wal_position()
    except Exception:  # noqa: BLE001 - the primary stopped answering in between
        return True
    if not current:
        logger.warning("replica %s: receiver silent for %.0fs and behind the primary", alias, silent_seconds)
    return current


def check_replica(alias: str) -> ReplicaState:
    """Ask a replica how far it has replayed and whether it still streams from the primary;
    mark it down if it does not answer, lags, or stopped streaming while the primary is up."""
    connection = connections[alias]
    try:
        with connection.cursor() as cursor:
            cursor.execute(_REPLICA_STATE_SQL)
            in_recovery, replay_lsn, lag, streaming, silent_seconds = cursor.fetchone()
    except Exception:  # noqa: BLE001 - any failure means: do not read from it now
        logger.warning("replica %s unreachable; reading from the primary", alias)
        try:
            connection.close()
        except Exception:  # noqa: BLE001, S110 - the connection is already broken
            pass
        _down_until[alias] = time.monotonic() + settings.DATABASE_REPLICA_RETRY_SECONDS
        return ReplicaState(healthy=False)
    lag = float(lag or 0)
    replay_lsn = int(replay_lsn or 0)
    healthy = bool(in_recovery) and lag <= settings.DATABASE_REPLICA_MAX_LAG_SECONDS
    silent = float(silent_seconds) if silent_seconds is not None else None
    if healthy:
        healthy = _stream_ok(alias=alias, streaming=bool(streaming), silent_seconds=silent, replay_lsn=replay_lsn)
    if not healthy:
        logger.warning(
            "replica %s skipped: in_recovery=%s lag=%.1fs streaming=%s", alias, in_recovery, lag, bool(streaming)
        )
        _down_until[alias] = time.monotonic() + settings.DATABASE_REPLICA_RETRY_SECONDS
    return ReplicaState(healthy=healthy, replay_lsn=replay_lsn, lag_seconds=lag, streaming=bool(streaming))


def replicas_failed() -> bool:
    """After a database error: mark every replica whose connection broke as down (this
    process skips it for ``DATABASE_REPLICA_RETRY_SECONDS``); True if there was one.

    Replica state is cached per process for a fraction of a second, so a replica that
    dies is first noticed by a query failing on it; the request middleware then runs a
    safe request once more, on the primary.
    """
    failed = False
    for alias in replica_aliases():
        raw = connections[alias].connection
        if raw is None or not (getattr(raw, "broken", False) or getattr(raw, "closed", False)):
            continue
        failed = True
        _down_until[alias] = time.monotonic() + settings.DATABASE_REPLICA_RETRY_SECONDS
        _process_states.pop(alias, None)
        try:
            connections[alias].close()
        except Exception:  # noqa: BLE001, S110 - already broken
            pass
    state = _scope.get()
    if failed and state is not None:
        state.replica_failed = True
        state.replicas.clear()
    return failed


def replica_state(alias: str, *, required_lsn: int | None = None) -> ReplicaState:
    """A replica's state: as checked in this scope, else as this process last checked it
    if that is younger than ``DATABASE_REPLICA_CHECK_SECONDS`` and has replayed
    ``required_lsn``; otherwise the replica is asked now."""
    state = _scope.get()
    if state is not None and alias in state.replicas:
        return state.replicas[alias]
    known = _process_states.get(alias)
    if (
        known is not None
        and time.monotonic() - known.checked_at < settings.DATABASE_REPLICA_CHECK_SECONDS
        and (required_lsn is None or not known.healthy or known.replay_lsn >= required_lsn)
    ):
        return known
    known = check_replica(alias)
    _process_states[alias] = known
    if state is not None:
        state.replicas[alias] = known
    return known


def choose_read_alias() -> str:
    state = _scope.get()
    if state is not None:
        if state.force_primary:
            return PRIMARY
        # A scope that wrote, or a user pinned after a write, reads the primary while it
        # answers. When it does not, that write failed (or was made before the crash):
        # the replica serves them like everyone else rather than a 503 on every read.
        pinned = state.pinned_until is not None and time.time() < state.pinned_until
        if (state.wrote or pinned) and _primary_presumed_up():
            return PRIMARY
    if connections[PRIMARY].in_atomic_block:
        return PRIMARY
    now = time.monotonic()
    candidates = [alias for alias in replica_aliases() if _down_until.get(alias, 0) <= now]
    if not candidates:
        return _primary_or_any_replica()
    random.shuffle(candidates)
    required = state.required_lsn if state is not None else None
    behind = None
    for alias in candidates:
        replica = replica_state(alias, required_lsn=required)
        if replica.healthy and (required is None or replica.replay_lsn >= required):
            return alias
        if replica.healthy:
            behind = alias
    if behind is not None and not primary_available():
        # The reader's last write is not on the replica yet, but the primary is down: a
        # slightly stale read beats a failed one.
        return behind
    return _primary_or_any_replica()


def _primary_or_any_replica() -> str:
    """No replica passed its check: the primary, unless it is down too. Then a replica
    that failed its check (lagging, or out of recovery while a failover promotes it and
    before it accepts writes) still beats a certain failure."""
    replicas = replica_aliases()
    if not replicas or primary_available():
        return PRIMARY
    return random.choice(replicas)


def _primary_presumed_up() -> bool:
    """Whether the primary may serve a read: a connection already used (or health-checked)
    in this request counts as up without a round trip; otherwise it is asked (see
    ``primary_available``). A persistent connection from an earlier request proves
    nothing: its server may have died since."""
    if _down_until.get(PRIMARY, 0) > time.monotonic():
        return False
    connection = connections[PRIMARY]
    raw = connection.connection
    if raw is not None and not raw.closed and not getattr(raw, "broken", False) and connection.health_check_done:
        return True
    return primary_available()


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
