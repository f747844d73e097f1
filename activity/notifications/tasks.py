"""Notification tasks: each re-reads the relation and makes the inbox match it, so it is
idempotent and safe to run twice. The names stay ``activity.tasks.*``: routes, handlers,
the outbox and queued messages carry them.
"""

from celery import shared_task

from activity.notifications import services as notifications


@shared_task(name="activity.tasks.notification_sync_like")
def notification_sync_like(user_id: int, video_id: str) -> None:
    notifications.notification_sync_like(user_id=user_id, video_id=video_id)


@shared_task(name="activity.tasks.notification_sync_follow")
def notification_sync_follow(follower_id: int, followee_id: int) -> None:
    notifications.notification_sync_follow(follower_id=follower_id, followee_id=followee_id)


@shared_task(
    name="activity.tasks.notifications_sync", bind=True, outbox_batch=True, max_retries=5, default_retry_delay=5
)
def notifications_sync(self, events: list) -> None:
    """The likes' and follows' notifications of one outbox relay batch (``outbox_batch``:
    the relay merges the events of the rows it claims together into one task); the
    events whose sync failed are retried alone."""
    failed = notifications.notifications_sync(events=events)
    if failed:
        raise self.retry(args=[failed])


@shared_task(name="activity.tasks.notification_sync_comment")
def notification_sync_comment(comment_id: int) -> None:
    notifications.notification_sync_comment(comment_id=comment_id)


@shared_task(name="activity.tasks.notification_sync_caption")
def notification_sync_caption(video_id: str) -> None:
    notifications.notification_sync_caption(video_id=video_id)


@shared_task(name="activity.tasks.notifications_expire")
def notifications_expire() -> int:
    """Delete inbox items past their retention (beat)."""
    return notifications.notifications_expire()
