"""Operational tasks of the project itself."""

import time

from celery import shared_task
from django.core.cache import caches

from tiktok import idempotency
from tiktok.keys import WORKER_HEARTBEAT_COUNT_KEY, WORKER_HEARTBEAT_KEY


@shared_task(name="tiktok.tasks.worker_heartbeat")
def worker_heartbeat() -> float:
    """Record that a worker consumed from the default queue (readyz reports its age)."""
    now = time.time()
    durable = caches["durable"]
    durable.set(WORKER_HEARTBEAT_KEY, now, timeout=None)
    durable.get_or_set(WORKER_HEARTBEAT_COUNT_KEY, 0, timeout=None)
    durable.incr(WORKER_HEARTBEAT_COUNT_KEY)  # how many beat ticks ran (one beat at a time)
    return now


def last_worker_heartbeat() -> float | None:
    return caches["durable"].get(WORKER_HEARTBEAT_KEY)


@shared_task(name="tiktok.tasks.drain_outbox")
def drain_outbox() -> int:
    """Relay one batch of outbox rows: the safety net for rows no worker's relay took
    (no worker running, or every relay waiting out a broker outage)."""
    from tiktok import outbox

    return outbox.drain()


@shared_task(name="tiktok.tasks.idempotency_records_delete_expired")
def idempotency_records_delete_expired() -> int:
    """Delete Idempotency-Key records past their 24 h (``tiktok.idempotency``)."""
    return idempotency.records_delete_expired()
