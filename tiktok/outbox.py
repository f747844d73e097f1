"""The one way to enqueue a Celery task: by name, after commit, never lost (transactional outbox).

``enqueue_on_commit("app.tasks.name", *args)`` writes an ``OutboxMessage`` in the
caller's transaction and publishes it right after the commit. A message whose publish
failed (broker down) is published later by the ``drain_outbox`` beat task. Tasks must
therefore be idempotent (they are).

``enqueue("app.tasks.name", *args)`` publishes at once, outside any transaction: for a
task that splits its work into sub-tasks (it fails and is retried if the broker is
down) and for best-effort hints whose loss a later run repairs.

Tasks are named, not imported, so a lower layer can start a higher layer's work
(``videos`` publishing a video starts ``feed`` fan-out) without importing it.
"""

from __future__ import annotations

import logging

from django.db import transaction

from tiktok import db_router
from tiktok.models import OutboxMessage

logger = logging.getLogger(__name__)

DRAIN_BATCH_SIZE = 500


def enqueue_on_commit(task_name: str, *args, **kwargs) -> None:
    """Record the task now; publish it once the surrounding transaction commits."""
    message = OutboxMessage.objects.create(task_name=task_name, args=list(args), kwargs=kwargs)
    transaction.on_commit(lambda: _publish(message.pk, task_name, list(args), kwargs))


def enqueue(task_name: str, *args, countdown: float | None = None) -> None:
    """Publish a task now (raises if the broker is down: the caller decides what that means)."""
    _task(task_name).apply_async(args=list(args), countdown=countdown)


def _task(task_name: str):
    """The registered task of that name (every app's ``tasks`` module is loaded on first use)."""
    from tiktok.celery import app

    if task_name not in app.tasks:
        app.loader.import_default_modules()  # runs Celery's autodiscovery of app tasks
    return app.tasks[task_name]


def _publish(message_id: int, task_name: str, args: list, kwargs: dict) -> bool:
    try:
        _task(task_name).apply_async(args=args, kwargs=kwargs)
    except Exception as exc:  # noqa: BLE001 - broker down: drain_outbox retries
        logger.warning("task %s kept in the outbox: %s", task_name, exc)
        try:
            OutboxMessage.objects.filter(pk=message_id).update(last_error=str(exc)[:300])
        except Exception:  # noqa: BLE001, S110 - the primary is down too; the row is still there
            pass
        return False
    try:
        OutboxMessage.objects.filter(pk=message_id).delete()
    except Exception:  # noqa: BLE001 - published twice at worst; tasks are idempotent
        logger.warning("outbox message %s published but not deleted", message_id)
    return True


def drain(*, limit: int = DRAIN_BATCH_SIZE) -> int:
    """Publish messages left behind by failed publishes; returns how many were sent."""
    sent = 0
    with db_router.use_primary():
        pending = list(OutboxMessage.objects.order_by("id")[:limit])
    for message in pending:
        OutboxMessage.objects.filter(pk=message.pk).update(attempts=message.attempts + 1)
        if _publish(message.pk, message.task_name, message.args, message.kwargs):
            sent += 1
        else:
            break  # broker still down: try again on the next tick
    return sent


def pending_count() -> int:
    with db_router.use_primary():
        return OutboxMessage.objects.count()
