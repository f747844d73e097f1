"""Moderation tasks: the report threshold check. Idempotent: safe to run twice."""

from celery import shared_task

from moderation import services


@shared_task(name="moderation.tasks.video_report_threshold_check")
def video_report_threshold_check(video_id: str) -> bool:
    """Hide a video once enough distinct users reported it."""
    return services.video_report_threshold_check(video_id=video_id)
