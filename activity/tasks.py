"""Activity tasks: counter flush and recount (beat).

Each task is idempotent and safe to run twice or concurrently (flush and recount share
an advisory lock; see ``activity.counters``).
"""

from celery import shared_task

from activity import counters


@shared_task(name="activity.tasks.flush_counters")
def flush_counters() -> dict:
    """Apply pending counter deltas to Postgres."""
    return counters.counter_flush()


@shared_task(name="activity.tasks.recount_counters")
def recount_counters() -> dict:
    """Recompute every counter from the relation tables (the repair path)."""
    return counters.counter_recount()
