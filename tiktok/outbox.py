"""Enqueue Celery tasks after commit without ever losing them (transactional outbox).

``enqueue_on_commit(task, *args)`` writes an ``OutboxMessage`` in the caller's
transaction and publishes it right after the commit. A message whose publish failed
(broker down) is published later by the ``drain_outbox`` beat task, or by the next
successful publish in any process. Tasks must therefore be idempotent (they are).
"""

from __future__ import annotations

import logging

from django.db import transaction

from tiktok import db_router
from tiktok.models import OutboxMessage

logger = logging.getLogger(__name__)

DRAIN_BATCH_SIZE = 500


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """Record the task now; publish it once the surrounding transaction commits."""
    message = OutboxMessage.objects.create(task_name=task.name, args=list(args), kwargs=kwargs)
    transaction.on_commit(lambda: _publish(message.pk, task.name, list(args), kwargs))


def _publish(message_id: int, task_name: str, args: list, kwargs: dict) -> bool:
    from tiktok.celery import app

    try:
        app.tasks[task_name].apply_async(args=args, kwargs=kwargs)
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
