"""Housekeeping of video media: objects of gone or failed videos, quarantine of
taken-down media, and the beat's clean-up of abandoned uploads and stuck processing.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tiktok import db_router
from tiktok.locks import AdvisoryLock, advisory_lock
from tiktok.outbox import enqueue, enqueue_on_commit
from videos import store
from videos.models import Moderation, Video, VideoStatus

logger = logging.getLogger(__name__)

CLEANUP_BATCH_SIZE = 200


def video_delete_objects(*, video_id, owner_id: int | None) -> None:
    """Delete a gone or failed video's objects (original and everything processed).

    Does nothing while the row exists in another state, so a stray or late task never
    deletes a live video's media. With ``owner_id`` None only the processed objects are
    deleted (a late clean-up after the original went with the row's deletion).
    """
    video_id = uuid.UUID(str(video_id))
    with db_router.use_primary():
        video = Video.objects.filter(id=video_id).first()
    if video is not None and video.status != VideoStatus.FAILED:
        logger.info("video %s is %s; its objects are kept", video_id, video.status)
        return
    if owner_id is None and video is not None:
        owner_id = video.owner_id
    if owner_id is not None:
        store.delete(store.original_key(owner_id=owner_id, video_id=video_id))
    store.delete_prefix(store.processed_prefix(video_id=video_id))
    store.delete_prefix(store.quarantine_prefix(video_id=video_id))


class QuarantineBusyError(store.StoreUnavailableError):
    """Another task is moving this video's objects; the task retries."""

    code = "quarantine_busy"


def video_quarantine_sync(*, video_id) -> str:
    """Move a video's objects into or out of ``quarantine/<video_id>/`` to match its state.

    Processed objects are public (HLS players cannot carry a signature to segments), so
    a takedown must take them away from their public keys: a ready video that is not
    visible has its original and processed objects moved under the private quarantine
    prefix; a visible one has them moved back (processed ones public again). Keys in
    the row never change. Idempotent and driven by the row's current state, so tasks for
    a quick hide-then-restore converge; a gone or failed video's quarantine is deleted.
    Returns what it did: "quarantined", "restored", "deleted" or "nothing".
    """
    video_id = uuid.UUID(str(video_id))
    with advisory_lock(AdvisoryLock.VIDEO_QUARANTINE, video_id) as acquired:
        if not acquired:
            raise QuarantineBusyError("The video's objects are being moved; try again shortly.")
        with db_router.use_primary():
            video = Video.objects.filter(id=video_id).first()
        quarantine = store.quarantine_prefix(video_id=video_id)
        if video is None or video.status == VideoStatus.FAILED:
            return "deleted" if store.delete_prefix(quarantine) else "nothing"
        if video.moderation == Moderation.VISIBLE:
            keys = store.list_keys(quarantine)
            for key in keys:
                destination = key[len(quarantine) :]
                store.move(key, destination, public=destination.startswith(store.processed_prefix(video_id=video_id)))
            if keys and video.status == VideoStatus.READY:
                # Renditions that could not be made while the original was away.
                enqueue_on_commit("videos.tasks.video_add_renditions", str(video_id))
            return "restored" if keys else "nothing"
        if video.status != VideoStatus.READY:
            # Processing still needs the original; publishing enqueues this task again.
            return "nothing"
        keys = store.list_keys(video.original_key) + store.list_keys(store.processed_prefix(video_id=video_id))
        for key in keys:
            store.move(key, quarantine + key, public=False)
        logger.info("video %s: %s objects quarantined", video_id, len(keys))
        return "quarantined" if keys else "nothing"


# --- Housekeeping (beat) --------------------------------------------------------------


def delete_abandoned_uploads(*, now: datetime | None = None) -> int:
    """Delete videos never completed, with their objects, once their URL expired + grace."""
    cutoff = (now or timezone.now()) - settings.VIDEO_ABANDONED_UPLOAD_GRACE
    deleted = 0
    while True:
        with db_router.use_primary():
            batch = list(
                Video.objects.filter(status=VideoStatus.AWAITING_UPLOAD, upload_expires_at__lt=cutoff)
                .order_by("upload_expires_at", "id")
                .values_list("id", "owner_id", "original_key")[:CLEANUP_BATCH_SIZE]
            )
        if not batch:
            return deleted
        for video_id, _owner_id, key in batch:
            # The object first: a failure leaves the row, and the next run tries again.
            store.delete(key)
            with transaction.atomic():
                count, _ = Video.objects.filter(
                    id=video_id, status=VideoStatus.AWAITING_UPLOAD, upload_expires_at__lt=cutoff
                ).delete()
            deleted += 1 if count else 0
        if len(batch) < CLEANUP_BATCH_SIZE:
            return deleted


def requeue_stuck_processing(*, now: datetime | None = None) -> int:
    """Enqueue processing again for videos in ``processing`` with no progress for longer
    than the broker's visibility timeout (a lost enqueue, a task that kept failing).

    Safe alongside a live task: processing takes an advisory lock and counts attempts.
    """
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.CELERY_VISIBILITY_TIMEOUT_SECONDS)
    with db_router.use_primary():
        ids = list(
            Video.objects.filter(status=VideoStatus.PROCESSING, updated_at__lt=cutoff)
            .order_by("updated_at")
            .values_list("id", flat=True)[:CLEANUP_BATCH_SIZE]
        )
    for video_id in ids:
        enqueue("videos.tasks.video_process", str(video_id))
    return len(ids)
