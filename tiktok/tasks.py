"""Operational tasks of the project itself."""

import time

from celery import shared_task
from django.core.cache import caches

WORKER_HEARTBEAT_KEY = "worker:heartbeat"


@shared_task(name="tiktok.tasks.worker_heartbeat")
def worker_heartbeat() -> float:
    """Record that a worker consumed from the default queue (readyz reports its age)."""
    now = time.time()
    caches["durable"].set(WORKER_HEARTBEAT_KEY, now, timeout=None)
    return now


def last_worker_heartbeat() -> float | None:
    return caches["durable"].get(WORKER_HEARTBEAT_KEY)


@shared_task(name="tiktok.tasks.drain_outbox")
def drain_outbox() -> int:
    """Publish tasks whose publish failed after their commit (broker was down)."""
    from tiktok import outbox

    return outbox.drain()
