"""The one way to enqueue a Celery task: by name, after commit, never lost (transactional outbox).

``enqueue_on_commit("app.tasks.name", *args)`` writes an ``OutboxMessage`` in the
caller's transaction, with a ``NOTIFY`` on ``RELAY_CHANNEL`` that PostgreSQL delivers
only if the transaction commits. The request publishes nothing: a ``Relay`` (a thread in
every Celery worker's main process, ``tiktok.celery``) is woken by that notification,
claims committed rows in batches (``UPDATE ... FOR UPDATE SKIP LOCKED RETURNING``, so
several workers' relays share the work without sending a row twice), publishes them with
their row ids (the ``outbox_ids`` header), marks them sent and commits; a failed publish
rolls the claim back and the rows stay. The worker that runs a task to success deletes
its rows (``done``, before the broker's acknowledgement); a row still there
``OUTBOX_RESEND_AFTER_SECONDS`` after its publish is sent again, at most
``OUTBOX_MAX_SENDS`` times. That closes the one window the broker's own redelivery cannot:
Redis hands a message over (``BRPOP``) before the worker records it as unacknowledged, so
a worker killed in between takes the message with it. Tasks must therefore be idempotent
(they are): a crash between the publish and the commit, or between the task's end and its
acknowledgement, runs a task again.
With a replicated broker (``OUTBOX_BROKER_MIN_REPLICAS``, on behind Sentinel) the claim
commits only once a replica acknowledged the batch (Redis ``WAIT``): a master that dies
with messages its replica never got, before Sentinel promotes that replica, costs a
resend, not a task.
The ``drain_outbox`` beat task relays one batch too, so rows are published even while
no relay listens.

A write that decides in SQL whether it changed anything (a like, a follow) records its
tasks in the same statement instead: ``record_sql`` gives the ``INSERT`` (with its
``NOTIFY``) for a CTE that writes the rows only if the change happened, and
``publish_on_commit`` hands over what it wrote. One round trip and one commit for the
change and its outbox rows.

With ``CELERY_TASK_ALWAYS_EAGER`` (tests, no broker and so no relay) the recorded tasks
run in the process right after the commit, and their rows are deleted.

A task declared ``outbox_batch=True`` takes one argument, a list of items: the relay
sends the rows of such a task claimed together as one message carrying all their items
(many likes' notifications become one task per batch, not one per like).

``enqueue("app.tasks.name", *args)`` publishes at once, outside any transaction and
outside the outbox: only for best-effort hints and periodic sweeps whose loss a later run
repairs. A task that splits its work into sub-tasks records them here too
(``enqueue_on_commit`` in autocommit: each commits at once).

An app enqueues its own tasks here; a lower layer starts a higher layer's work by
publishing a domain event (``tiktok.events``), which records one row per handler task.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connections, transaction
from django.db.models import F
from django.utils import timezone

from tiktok import db_router
from tiktok.logging import current_request_id
from tiktok.models import OutboxMessage

logger = logging.getLogger(__name__)

DRAIN_BATCH_SIZE = 500
RELAY_CHANNEL = "outbox_relay"
STOP_CHECK_SECONDS = 0.5  # how soon a waiting relay notices ``stop()``
_TABLE = OutboxMessage._meta.db_table

# Claim, with rows no other relay holds: the oldest never sent, and the longest-sent ones
# due again (sent more than ``%(resend)s`` seconds ago, fewer than ``%(max)s`` times). Each
# side has a partial index, so a claim costs the same however many sent rows wait for
# their task (a backlog in the broker). With the primary's WAL position: the rows' commits
# are before it, so a task told to read at least that far (its ``db_min_lsn`` header)
# sees what the write that recorded it wrote.
_CLAIM_SQL = (
    f"WITH unsent AS (SELECT id FROM {_TABLE} WHERE sent_at IS NULL "  # noqa: S608 - the model's table
    "ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED), "
    f"due AS (SELECT id FROM {_TABLE} WHERE sent_at < now() - make_interval(secs => %(resend)s) "
    "AND sends < %(max)s ORDER BY sent_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED), "
    f"claimed AS (UPDATE {_TABLE} SET sent_at = now(), sends = sends + 1 "
    "WHERE id IN (SELECT id FROM unsent UNION ALL SELECT id FROM due) "
    "RETURNING id, task_name, args, kwargs, created_at, request_id, sends) "
    "SELECT id, task_name, args, kwargs, created_at, (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint, "
    "request_id, sends FROM claimed ORDER BY id"
)
IDS_HEADER = "outbox_ids"  # carries a message's outbox row ids to the worker (``done``)


class PublishFailed(Exception):
    """The broker refused a claimed batch; its rows are back in the outbox."""


class NotReplicated(Exception):
    """The broker's replicas did not acknowledge a published batch in time."""


# Written after a batch's messages on a connection of the relay's own: ``WAIT`` counts the
# replicas that have a connection's writes, and the replication stream is in order, so a
# replica that acknowledged this write has the batch's messages (published before it).
_FENCE_KEY = "tiktok:outbox:replicated"


@dataclass(frozen=True)
class Task:
    """One task to enqueue: its registered name and its (JSON) arguments."""

    name: str
    args: Sequence = ()
    kwargs: dict = field(default_factory=dict)
    request_id: str = ""  # of the request that recorded it (its log lines carry it)
    ids: Sequence[int] = ()  # the outbox rows it is sent for (relayed tasks only)


def enqueue_on_commit(task_name: str, *args, **kwargs) -> None:
    """Record the task now; it is published once the surrounding transaction commits."""
    enqueue_all_on_commit([Task(task_name, args, kwargs)])


def enqueue_all_on_commit(tasks: Sequence[Task]) -> None:
    """Record several tasks in one statement now (a write that starts two tasks pays for
    one outbox insert, not two); the relay publishes them once the transaction commits."""
    sql, params = record_sql(tasks, when=None)
    with connections[db_router.PRIMARY].cursor() as cursor:
        cursor.execute(f"WITH queued AS ({sql}) SELECT {recorded_sql('queued')}", params)  # noqa: S608 - no input
        publish_on_commit(cursor.fetchone()[0])


def record_sql(tasks: Sequence[Task], *, when: str | None) -> tuple[str, list]:
    """An ``INSERT`` of ``tasks`` into the outbox, for a CTE (``queued AS (<this>)``) whose
    messages the statement returns as ``recorded_sql("queued")`` for ``publish_on_commit``.
    Each inserted row notifies ``RELAY_CHANNEL`` (PostgreSQL folds the notifications of
    one transaction into one and delivers it at commit): nothing written, no wake-up.

    With ``when`` (the name of another CTE of the statement), the rows are written only if
    that CTE returned a row: a statement that makes a change and records the work it
    starts, in one round trip and one commit.
    """
    condition = f"WHERE EXISTS (SELECT 1 FROM {when})" if when else ""  # noqa: S608 - a CTE name from code
    sql = (
        f"INSERT INTO {_TABLE} (task_name, args, kwargs, created_at, attempts, last_error, request_id) "  # noqa: S608 - the model's table
        "SELECT m.task_name, m.args, m.kwargs, now(), 0, '', %s "
        f"FROM jsonb_to_recordset(%s::jsonb) AS m(task_name text, args jsonb, kwargs jsonb) {condition} "
        f"RETURNING id, task_name, args, kwargs, pg_notify('{RELAY_CHANNEL}', '')"
    )
    params = [
        current_request_id()[:64],
        json.dumps([{"task_name": t.name, "args": list(t.args), "kwargs": t.kwargs} for t in tasks]),
    ]
    return sql, params


def recorded_sql(cte: str) -> str:
    """The select-list expression of the messages a ``record_sql`` CTE wrote (JSON)."""
    return f"(SELECT jsonb_agg(jsonb_build_array(id, task_name, args, kwargs) ORDER BY id) FROM {cte})"  # noqa: S608


def publish_on_commit(recorded: str | None) -> None:
    """Hand over the messages of ``recorded_sql`` (None: none were written). The relay
    publishes them after the commit (the statement's ``NOTIFY`` wakes it); with eager
    tasks, they run here once the transaction commits. The rows, not the caller's tasks,
    say what is sent: the two cannot disagree."""
    if recorded is None:
        return
    db_router.mark_write()  # raw SQL wrote them: tell the router (read-your-writes)
    if not _app().conf.task_always_eager:
        return
    messages = [(message_id, Task(name, args, kwargs)) for message_id, name, args, kwargs in json.loads(recorded)]
    transaction.on_commit(lambda: _run_eagerly(messages), using=db_router.PRIMARY)


def enqueue(task_name: str, *args, countdown: float | None = None) -> None:
    """Publish a task now (raises if the broker is down: the caller decides what that means)."""
    _task(task_name).apply_async(args=list(args), countdown=countdown)


def enqueue_spread(task_name: str, user_ids: Sequence[int], *, seconds: float) -> int:
    """``task_name(user_id)`` for each user, starts spread evenly over ``seconds`` (periodic refreshes)."""
    for index, user_id in enumerate(user_ids):
        enqueue(task_name, user_id, countdown=(index * seconds) // max(len(user_ids), 1))
    return len(user_ids)


def _app():
    from tiktok.celery import app

    return app


def _registered(task_name: str):
    """The registered task of that name, or None (every app's ``tasks`` module is loaded on
    first use)."""
    app = _app()
    if task_name not in app.tasks:
        app.loader.import_default_modules()  # runs Celery's autodiscovery of app tasks
    return app.tasks.get(task_name)


def _task(task_name: str):
    task = _registered(task_name)
    if task is None:
        raise KeyError(f"no task {task_name!r}")
    return task


def _run_eagerly(messages: Sequence[tuple[int, Task]]) -> None:
    """Eager mode: run each task in order and delete the rows of those that ran; a task
    that raises keeps its row and the rest (``drain_outbox`` retries them)."""
    ran: list[int] = []
    for message_id, task in messages:
        try:
            _task(task.name).apply_async(args=list(task.args), kwargs=task.kwargs)
        except Exception:  # noqa: BLE001 - kept in the outbox, as a broker failure would
            logger.warning("task %s kept in the outbox", task.name, exc_info=True)
            break
        ran.append(message_id)
    if ran:
        with connections[db_router.PRIMARY].cursor() as cursor:
            cursor.execute(f"DELETE FROM {_TABLE} WHERE id = ANY(%s::bigint[])", [ran])  # noqa: S608 - the model's table


# --- The relay ----------------------------------------------------------------------------


def relay_batch(*, limit: int, broker=None) -> int:
    """Claim up to ``limit`` committed rows, publish them, commit; returns how many rows
    were sent. Raises ``PublishFailed`` (the claim rolled back, the rows stay, their
    ``attempts`` and ``last_error`` say why) if the broker refuses one. ``broker``: a
    kombu connection to publish on (default: the app's producer pool)."""
    claimed: list[int] = []
    try:
        with transaction.atomic(using=db_router.PRIMARY):
            with connections[db_router.PRIMARY].cursor() as cursor:
                cursor.execute(_CLAIM_SQL, _claim_params(limit))
                rows = cursor.fetchall()
            if not rows:
                return 0
            claimed = [row[0] for row in rows]
            # The scope puts the claim's WAL position in every message's ``db_min_lsn``.
            with _replicated(broker) as confirm, db_router.scope(required_lsn=rows[0][5]):
                tasks = [
                    Task(name, json.loads(args), json.loads(kwargs), request_id, (message_id,))
                    for message_id, name, args, kwargs, _, _, request_id, _ in rows
                ]
                for task in _batched(tasks):
                    headers = {IDS_HEADER: list(task.ids)}
                    if task.request_id:
                        headers["request_id"] = task.request_id
                    # By name: a task this process does not know (a newer release's) is sent all the same.
                    _app().send_task(
                        task.name, args=list(task.args), kwargs=task.kwargs, connection=broker, headers=headers
                    )
                confirm()
    except Exception as exc:
        if not claimed:
            raise  # the claim itself failed (the primary): nothing was taken
        _record_failure(claimed, exc)
        raise PublishFailed(str(exc)) from exc
    oldest = max(timezone.now() - row[4] for row in rows)
    logger.debug("relayed %d outbox row(s); the oldest waited %.1f ms", len(rows), oldest.total_seconds() * 1000)
    _log_resends(rows)
    return len(rows)


def _claim_params(limit: int) -> dict:
    return {"limit": limit, "resend": settings.OUTBOX_RESEND_AFTER_SECONDS, "max": settings.OUTBOX_MAX_SENDS}


def _log_resends(rows) -> None:
    for message_id, name, *_, sends in rows:
        if sends == settings.OUTBOX_MAX_SENDS:
            logger.error("outbox row %d (%s) sent for the last time (%d sends, none finished)", message_id, name, sends)
        elif sends > 1:
            logger.warning("outbox row %d (%s) sent again (send %d): no worker finished it", message_id, name, sends)


def done(ids: Sequence[int]) -> None:
    """A worker ran the task of these rows to success: they are not to be sent again."""
    if not ids:
        return
    with connections[db_router.PRIMARY].cursor() as cursor:
        cursor.execute(f"DELETE FROM {_TABLE} WHERE id = ANY(%s::bigint[])", [list(ids)])  # noqa: S608 - the model's table


@contextmanager
def _replicated(broker) -> Iterator:
    """Yields ``confirm()``, which raises ``NotReplicated`` unless
    ``OUTBOX_BROKER_MIN_REPLICAS`` replicas of the broker's master have everything
    published before it. Raises ``NotReplicated`` at once, before anything is published,
    while the master has fewer replicas attached (a lone master after a failover: the rows
    wait for its replica rather than being sent again and again). Its connection is taken
    before the batch is published: if that master dies meanwhile, ``confirm`` fails on it
    rather than asking a newly promoted one."""
    wanted = settings.OUTBOX_BROKER_MIN_REPLICAS
    if wanted <= 0:
        yield lambda: None
        return
    with ExitStack() as stack:
        if broker is None:
            broker = stack.enter_context(_app().connection_for_write())
        channel = broker.default_channel
        client = channel.Client(connection_pool=channel.pool, single_connection_client=True)
        stack.callback(client.close)
        info = client.info("replication")
        # Online: a replica still loading its first copy would not acknowledge in time.
        online = sum(1 for key, value in info.items() if key[:5] == "slave" and _online(value))
        if online < wanted:
            raise NotReplicated(f"the broker's master has {online} of {wanted} replica(s) online")

        def confirm() -> None:
            client.set(_FENCE_KEY, "1")
            acked = client.execute_command("WAIT", wanted, settings.OUTBOX_BROKER_REPLICA_TIMEOUT_MS)
            if acked < wanted:
                raise NotReplicated(f"{acked} of {wanted} broker replica(s) acknowledged the batch")

        yield confirm


def _online(replica) -> bool:
    return isinstance(replica, dict) and replica.get("state") == "online"


def _batched(tasks: list[Task]) -> list[Task]:
    """``tasks`` in order, except that every task declared ``outbox_batch`` is sent once,
    at its first place, with the items of all its rows."""
    merged: list[Task] = []
    batch_of: dict[str, Task] = {}  # a batch task's one message: its items and row ids grow
    for task in tasks:
        if not getattr(_registered(task.name), "outbox_batch", False):
            merged.append(task)
        elif (batch := batch_of.get(task.name)) is not None:
            batch.args[0].extend(task.args[0])
            batch.ids.extend(task.ids)
        else:
            batch = Task(task.name, (list(task.args[0]),), request_id=task.request_id, ids=list(task.ids))
            batch_of[task.name] = batch
            merged.append(batch)
    return merged


def _record_failure(ids: list[int], exc: Exception) -> None:
    logger.warning("outbox rows %s kept: publish failed: %s", ids[:10], exc)
    try:
        OutboxMessage.objects.filter(id__in=ids).update(attempts=F("attempts") + 1, last_error=str(exc)[:300])
    except Exception:  # noqa: BLE001, S110 - the primary is down too; the rows are still there
        pass


def drain(*, limit: int = DRAIN_BATCH_SIZE) -> int:
    """Relay one batch now (beat's safety net, and tools); returns how many were sent,
    0 while the broker is down."""
    try:
        return relay_batch(limit=limit)
    except PublishFailed:
        return 0


def pending_count() -> int:
    """Rows waiting for their first publish."""
    # primary: the rows change by the millisecond; operators and tests want them as they are
    with db_router.use_primary():
        return OutboxMessage.objects.filter(sent_at__isnull=True).count()


def in_flight_count() -> int:
    """Rows published whose task no worker has finished yet (given-up ones included)."""
    # primary: as above
    with db_router.use_primary():
        return OutboxMessage.objects.filter(sent_at__isnull=False).count()


class Relay:
    """Publishes outbox rows as their transactions commit: a thread that ``LISTEN``\\s on
    ``RELAY_CHANNEL`` and relays a batch on each wake-up, and at least every
    ``OUTBOX_RELAY_WAIT_SECONDS`` (the safety net for rows whose publish failed and for a
    notification missed while reconnecting). After a wake-up it lingers
    ``OUTBOX_RELAY_LINGER_SECONDS`` so that the commits of a busy moment share a batch.
    Any error (primary or broker gone, a failover) closes its connections; it retries
    after ``OUTBOX_RELAY_WAIT_SECONDS`` on new ones."""

    def __init__(self, *, broker_url: str | None = None):
        self.broker_url = broker_url
        self.batch_size = settings.OUTBOX_RELAY_BATCH_SIZE
        self.wait_seconds = settings.OUTBOX_RELAY_WAIT_SECONDS
        self.linger_seconds = settings.OUTBOX_RELAY_LINGER_SECONDS
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="outbox-relay", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=self.wait_seconds + 10)

    def run(self) -> None:
        try:
            while not self._stopping.is_set():
                try:
                    with _listening() as listener, _app().connection_for_write(self.broker_url) as broker:
                        self._serve(listener, broker)
                except Exception:  # noqa: BLE001 - the primary or the broker is gone: start over
                    logger.warning("outbox relay restarts in %.1f s", self.wait_seconds, exc_info=True)
                    connections[db_router.PRIMARY].close()
                    self._stopping.wait(self.wait_seconds)
        finally:
            connections[db_router.PRIMARY].close()

    def _serve(self, listener, broker) -> None:
        # Listening before the first claim: a row committed after the claim wakes it.
        while not self._stopping.is_set():
            connections[db_router.PRIMARY].close_if_unusable_or_obsolete()
            try:
                while relay_batch(limit=self.batch_size, broker=broker) >= self.batch_size:
                    pass
            except PublishFailed:
                self._stopping.wait(self.wait_seconds)
                continue
            self._wait(listener)

    def _wait(self, listener) -> None:
        """Until a commit notifies (then linger and take every notification queued
        meanwhile: the next claim serves them all) or ``wait_seconds`` pass."""
        woken = False
        deadline = time.monotonic() + self.wait_seconds
        while not woken and not self._stopping.is_set() and (left := deadline - time.monotonic()) > 0:
            for _ in listener.notifies(timeout=min(left, STOP_CHECK_SECONDS), stop_after=1):
                woken = True
        if woken:
            time.sleep(self.linger_seconds)
            for _ in listener.notifies(timeout=0):
                pass


@contextmanager
def _listening() -> Iterator:
    """A connection of its own to the primary (autocommit) listening on ``RELAY_CHANNEL``."""
    listener = connections.create_connection(db_router.PRIMARY)
    try:
        listener.ensure_connection()
        listener.connection.execute(f"LISTEN {RELAY_CHANNEL}")
        yield listener.connection
    finally:
        listener.close()
