"""The app's Celery tasks, as Celery's autodiscovery finds them (it imports ``<app>.tasks``):
they live with their sub-domain, under the names ``activity.tasks.*`` that beat, the
routes, the outbox and queued messages carry.
"""

from activity.engagement.tasks import flush_counters, recount_counters
from activity.notifications.tasks import (
    notification_sync_caption,
    notification_sync_comment,
    notification_sync_follow,
    notification_sync_like,
    notifications_expire,
    notifications_sync,
)

__all__ = [
    "flush_counters",
    "notification_sync_caption",
    "notification_sync_comment",
    "notification_sync_follow",
    "notification_sync_like",
    "notifications_expire",
    "notifications_sync",
    "recount_counters",
]
