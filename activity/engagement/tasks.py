"""Counter tasks (beat): flush and recount.

Each is safe to run twice or concurrently (flush and recount share an advisory lock; see
``activity.engagement.counters``). The names stay ``activity.tasks.*``: beat entries,
routes and queued messages carry them.
"""

from celery import shared_task

from activity.engagement import counters


@shared_task(name="activity.tasks.flush_counters")
def flush_counters() -> dict:
    """Apply pending counter deltas to Postgres."""
    return counters.counter_flush()


@shared_task(name="activity.tasks.recount_counters")
def recount_counters() -> dict:
    """Recompute every counter from the relation tables (the repair path)."""
    return counters.counter_recount()
