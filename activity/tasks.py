"""Activity tasks: counter flush and recount (beat), report threshold check.

Each task is idempotent and safe to run twice or concurrently (flush and recount share
an advisory lock; see ``activity.counters``).
"""

from celery import shared_task

from activity import counters, services


@shared_task(name="activity.tasks.flush_counters")
def flush_counters() -> dict:
    """Apply pending counter deltas to Postgres."""
    return counters.counter_flush()


@shared_task(name="activity.tasks.recount_counters")
def recount_counters() -> dict:
    """Recompute every counter from the relation tables (the repair path)."""
    return counters.counter_recount()


@shared_task(name="activity.tasks.video_report_threshold_check")
def video_report_threshold_check(video_id: str) -> bool:
    """Hide a video once enough distinct users reported it."""
    return services.video_report_threshold_check(video_id=video_id)
