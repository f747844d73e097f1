"""The one way to enqueue a Celery task: by name, after commit, never lost (transactional outbox).

``enqueue_on_commit("app.tasks.name", *args)`` writes an ``OutboxMessage`` in the
caller's transaction and publishes it right after the commit. A message whose publish
failed (broker down) is published later by the ``drain_outbox`` beat task. Tasks must
therefore be idempotent (they are).

A write that decides in SQL whether it changed anything (a like, a follow) records its
tasks in the same statement instead: ``record_sql`` gives the ``INSERT`` for a CTE that
writes the rows only if the change happened, ``publish_on_commit`` publishes what it
wrote. One round trip and one commit for the change and its outbox rows. Published rows
are deleted in one autocommit statement after the publish.

``enqueue("app.tasks.name", *args)`` publishes at once, outside any transaction: for a
task that splits its work into sub-tasks (it fails and is retried if the broker is
down) and for best-effort hints whose loss a later run repairs.

Tasks are named, not imported, so a lower layer can start a higher layer's work
(``videos`` publishing a video starts ``feed`` fan-out) without importing it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import connections, transaction

from tiktok import db_router
from tiktok.models import OutboxMessage

logger = logging.getLogger(__name__)

DRAIN_BATCH_SIZE = 500
_TABLE = OutboxMessage._meta.db_table


@dataclass(frozen=True)
class Task:
    """One task to enqueue: its registered name and its (JSON) arguments."""

    name: str
    args: Sequence = ()
    kwargs: dict = field(default_factory=dict)


def enqueue_on_commit(task_name: str, *args, **kwargs) -> None:
    """Record the task now; publish it once the surrounding transaction commits."""
    enqueue_all_on_commit([Task(task_name, args, kwargs)])


def enqueue_all_on_commit(tasks: Sequence[Task]) -> None:
    """Record several tasks in one statement now; once the surrounding transaction commits,
    publish them and delete their rows in one statement (a write that starts two tasks
    pays for one outbox insert and one delete, not two of each)."""
    sql, params = record_sql(tasks, when=None)
    with connections[db_router.PRIMARY].cursor() as cursor:
        cursor.execute(f"WITH queued AS ({sql}) SELECT {recorded_sql('queued')}", params)  # noqa: S608 - no input
        publish_on_commit(cursor.fetchone()[0])


def record_sql(tasks: Sequence[Task], *, when: str | None) -> tuple[str, list]:
    """An ``INSERT`` of ``tasks`` into the outbox, for a CTE (``queued AS (<this>)``) whose
    messages the statement returns as ``recorded_sql("queued")`` for ``publish_on_commit``.

    With ``when`` (the name of another CTE of the statement), the rows are written only if
    that CTE returned a row: a statement that makes a change and records the work it
    starts, in one round trip and one commit.
    """
    condition = f"WHERE EXISTS (SELECT 1 FROM {when})" if when else ""  # noqa: S608 - a CTE name from code
    sql = (
        f"INSERT INTO {_TABLE} (task_name, args, kwargs, created_at, attempts, last_error) "  # noqa: S608 - the model's table
        "SELECT m.task_name, m.args, m.kwargs, now(), 0, '' "
        f"FROM jsonb_to_recordset(%s::jsonb) AS m(task_name text, args jsonb, kwargs jsonb) {condition} "
        "RETURNING id, task_name, args, kwargs"
    )
    params = [json.dumps([{"task_name": t.name, "args": list(t.args), "kwargs": t.kwargs} for t in tasks])]
    return sql, params


def recorded_sql(cte: str) -> str:
    """The select-list expression of the messages a ``record_sql`` CTE wrote (JSON)."""
    return f"(SELECT jsonb_agg(jsonb_build_array(id, task_name, args, kwargs) ORDER BY id) FROM {cte})"  # noqa: S608


def publish_on_commit(recorded: str | None) -> None:
    """Once the surrounding transaction commits (at once outside one), publish the messages
    of ``recorded_sql`` (None: none were written) and delete their rows. The rows, not the
    caller's tasks, say what is sent: the two cannot disagree."""
    if recorded is None:
        return
    db_router.mark_write()  # raw SQL wrote them: tell the router (read-your-writes)
    messages = [(message_id, Task(name, args, kwargs)) for message_id, name, args, kwargs in json.loads(recorded)]
    transaction.on_commit(lambda: _publish_all(messages), using=db_router.PRIMARY)


def enqueue(task_name: str, *args, countdown: float | None = None) -> None:
    """Publish a task now (raises if the broker is down: the caller decides what that means)."""
    _task(task_name).apply_async(args=list(args), countdown=countdown)


def _task(task_name: str):
    """The registered task of that name (every app's ``tasks`` module is loaded on first use)."""
    from tiktok.celery import app

    if task_name not in app.tasks:
        app.loader.import_default_modules()  # runs Celery's autodiscovery of app tasks
    return app.tasks[task_name]


def _publish_all(messages: Sequence[tuple[int, Task]]) -> int:
    """Publish messages in order and delete the rows of those sent; stops at the first
    failure (the broker is down: the rest stays for ``drain_outbox``). Returns how many
    were sent."""
    sent: list[int] = []
    for message_id, task in messages:
        if not _send(message_id, task):
            break
        sent.append(message_id)
    if sent:
        _delete_sent(sent)
    return len(sent)


def _send(message_id: int, task: Task) -> bool:
    try:
        _task(task.name).apply_async(args=list(task.args), kwargs=task.kwargs)
    except Exception as exc:  # noqa: BLE001 - broker down: drain_outbox retries
        logger.warning("task %s kept in the outbox: %s", task.name, exc)
        try:
            OutboxMessage.objects.filter(pk=message_id).update(last_error=str(exc)[:300])
        except Exception:  # noqa: BLE001, S110 - the primary is down too; the row is still there
            pass
        return False
    return True


def _delete_sent(ids: list[int]) -> None:
    """One autocommit statement, outside the router: removing a sent message is no write
    a reader must see (it does not move the user's read-your-writes position)."""
    try:
        with connections[db_router.PRIMARY].cursor() as cursor:
            cursor.execute(f"DELETE FROM {_TABLE} WHERE id = ANY(%s::bigint[])", [ids])  # noqa: S608 - the model's table
    except Exception:  # noqa: BLE001 - published twice at worst; tasks are idempotent
        logger.warning("outbox messages %s published but not deleted", ids)


def drain(*, limit: int = DRAIN_BATCH_SIZE) -> int:
    """Publish messages left behind by failed publishes; returns how many were sent."""
    sent = 0
    with db_router.use_primary():
        pending = list(OutboxMessage.objects.order_by("id")[:limit])
    for message in pending:
        OutboxMessage.objects.filter(pk=message.pk).update(attempts=message.attempts + 1)
        if not _publish_all([(message.pk, Task(message.task_name, message.args, message.kwargs))]):
            break  # broker still down: try again on the next tick
        sent += 1
    return sent


def pending_count() -> int:
    with db_router.use_primary():
        return OutboxMessage.objects.count()
