"""Celery tasks of the videos app: each takes ids and calls the service it is named after.

All of them are routed to the ``media`` queue (``VideosConfig.celery_task_routes``). ``acks_late`` is
global: a worker killed mid-task leaves the message to be redelivered, and every
service here is safe to run again.
"""

from celery import shared_task

from videos import av1, housekeeping, processing
from videos.store import StoreUnavailableError

# Backoff with jitter: about 10 s, 20 s, 40 s, 80 s, 160 s (each randomised down).
MAX_RETRIES = 5
RETRY_BACKOFF_SECONDS = 10
RETRY_BACKOFF_MAX_SECONDS = 600

_RETRY_TRANSIENT = {
    "autoretry_for": (StoreUnavailableError,),
    "retry_backoff": RETRY_BACKOFF_SECONDS,
    "retry_backoff_max": RETRY_BACKOFF_MAX_SECONDS,
    "retry_jitter": True,
    "max_retries": MAX_RETRIES,
}


# Any failure is retried here, not only the store's: ffmpeg may be killed, a database
# connection may drop. Attempts are bounded by VIDEO_PROCESSING_MAX_ATTEMPTS in the service.
@shared_task(name="videos.tasks.video_process", **{**_RETRY_TRANSIENT, "autoretry_for": (Exception,)})
def video_process(video_id: str) -> None:
    processing.video_process(video_id=video_id)


@shared_task(name="videos.tasks.video_add_renditions", **_RETRY_TRANSIENT)
def video_add_renditions(video_id: str) -> None:
    processing.video_add_renditions(video_id=video_id)


@shared_task(name="videos.tasks.video_delete_objects", **_RETRY_TRANSIENT)
def video_delete_objects(video_id: str, owner_id: int | None) -> None:
    housekeeping.video_delete_objects(video_id=video_id, owner_id=owner_id)


@shared_task(name="videos.tasks.video_quarantine_sync", **_RETRY_TRANSIENT)
def video_quarantine_sync(video_id: str) -> str:
    return housekeeping.video_quarantine_sync(video_id=video_id)


@shared_task(name="videos.tasks.owner_media_sync", **_RETRY_TRANSIENT)
def owner_media_sync(user_id: int) -> int:
    return housekeeping.owner_media_sync(user_id=user_id)


@shared_task(name="videos.tasks.delete_abandoned_uploads", **_RETRY_TRANSIENT)
def delete_abandoned_uploads() -> int:
    return housekeeping.delete_abandoned_uploads()


@shared_task(name="videos.tasks.requeue_stuck_processing")
def requeue_stuck_processing() -> int:
    return housekeeping.requeue_stuck_processing()


@shared_task(name="videos.tasks.video_encode_av1", **_RETRY_TRANSIENT)
def video_encode_av1(video_id: str) -> list[str]:
    return av1.video_encode_av1(video_id=video_id)
