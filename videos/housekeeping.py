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
from videos import cdn, store
from videos.models import Video, VideoStatus
from videos.services import video_media_public

logger = logging.getLogger(__name__)

CLEANUP_BATCH_SIZE = 200


def video_delete_objects(*, video_id, owner_id: int | None) -> None:
    """Delete a gone or failed video's objects (original and everything processed).

    Does nothing while the row exists in another state, so a stray or late task never
    deletes a live video's media. With ``owner_id`` None only the processed objects are
    deleted (a late clean-up after the original went with the row's deletion); the
    server's copy of the original (``verified/<video_id>/``) goes in both cases.
    """
    video_id = uuid.UUID(str(video_id))
    # primary: what to delete or keep is decided on the row as it is now
    with db_router.use_primary():
        video = Video.objects.filter(id=video_id).first()
    if video is not None and video.status != VideoStatus.FAILED:
        logger.info("video %s is %s; its objects are kept", video_id, video.status)
        return
    if owner_id is None and video is not None:
        owner_id = video.owner_id
    cached = _cdn_keys(video_id)
    # Purged before the deletion too: a failed purge retries the task while the keys can
    # still be listed; the purge after it drops copies cached in between.
    cdn.purge_video(video_id=video_id, keys=cached)
    if owner_id is not None:
        store.delete(store.original_key(owner_id=owner_id, video_id=video_id))
    store.delete_prefix(store.verified_prefix(video_id=video_id))
    store.delete_prefix(store.processed_prefix(video_id=video_id))
    store.delete_prefix(store.quarantine_prefix(video_id=video_id))
    cdn.purge_video(video_id=video_id, keys=cached)


def _cdn_keys(video_id: uuid.UUID) -> list[str]:
    """Keys of the video's objects the CDN may serve, where they are or in quarantine."""
    processed = store.processed_prefix(video_id=video_id)
    quarantine = store.quarantine_prefix(video_id=video_id)
    moved = [key[len(quarantine) :] for key in store.list_keys(quarantine + processed)]
    return store.list_keys(processed) + moved


class QuarantineBusyError(store.StoreUnavailableError):
    """Another task is moving this video's objects; the task retries."""

    code = "quarantine_busy"


def video_quarantine_sync(*, video_id) -> str:
    """Move a video's objects into or out of ``quarantine/<video_id>/`` to match its state.

    The bucket is private, but CDN URLs and presigned URLs already handed out stay valid
    until they expire, so a takedown takes the objects away from their keys and purges
    the CDN's copies: a ready video that is not visible, or whose owner is suspended, has
    its original and processed
    objects moved under the quarantine prefix, then the CDN purged (a failed purge
    retries the task, which purges again); a visible one has them moved back. No new
    playback URLs are issued meanwhile (cards hide the video). Keys in the row never
    change. Idempotent and driven by the row's current state, so tasks for
    a quick hide-then-restore converge; a gone or failed video's quarantine is deleted.
    Returns what it did: "quarantined", "restored", "deleted" or "nothing".
    """
    video_id = uuid.UUID(str(video_id))
    with advisory_lock(AdvisoryLock.VIDEO_QUARANTINE, video_id) as acquired:
        if not acquired:
            raise QuarantineBusyError("The video's objects are being moved; try again shortly.")
        # primary: read under the video's lock: the state the move is decided on
        with db_router.use_primary():
            video = Video.objects.select_related("owner").filter(id=video_id).first()
        quarantine = store.quarantine_prefix(video_id=video_id)
        if video is None or video.status == VideoStatus.FAILED:
            return "deleted" if store.delete_prefix(quarantine) else "nothing"
        if video_media_public(video):
            keys = store.list_keys(quarantine)
            for key in keys:
                destination = key[len(quarantine) :]
                store.move(key, destination)
            if keys and video.status == VideoStatus.READY:
                # Renditions that could not be made while the original was away.
                enqueue_on_commit("videos.tasks.video_add_renditions", str(video_id))
            return "restored" if keys else "nothing"
        if video.status != VideoStatus.READY:
            # Processing still needs the original; publishing enqueues this task again.
            return "nothing"
        keys = store.list_keys(video.original_key) + store.list_keys(store.processed_prefix(video_id=video_id))
        for key in keys:
            store.move(key, quarantine + key)
        logger.info("video %s: %s objects quarantined", video_id, len(keys))
        cdn.purge_video(video_id=video_id, keys=_cdn_keys(video_id))
        return "quarantined" if keys else "nothing"


def owner_media_sync(*, user_id: int) -> int:
    """Quarantine or restore the media of every ready video of one user (suspension).

    One task per user, however many videos they have: it walks them in keyset batches
    and enqueues ``video_quarantine_sync`` for each, which follows the row's current
    state (so a suspend quickly followed by a reinstatement converges). Videos still
    processing are covered when they publish. Returns how many videos were enqueued.
    """
    enqueued = 0
    after = None
    while True:
        # primary: a video published a moment ago must be withdrawn too
        with db_router.use_primary():
            batch = Video.objects.filter(owner_id=user_id, status=VideoStatus.READY).order_by("id")
            if after is not None:
                batch = batch.filter(id__gt=after)
            ids = list(batch.values_list("id", flat=True)[:CLEANUP_BATCH_SIZE])
        for video_id in ids:
            enqueue("videos.tasks.video_quarantine_sync", str(video_id))
        enqueued += len(ids)
        if len(ids) < CLEANUP_BATCH_SIZE:
            return enqueued
        after = ids[-1]


# --- Housekeeping (beat) --------------------------------------------------------------


def delete_abandoned_uploads(*, now: datetime | None = None) -> int:
    """Delete videos never completed, with their objects, once their URL expired + grace;
    then stray client uploads. Returns how many videos were deleted."""
    cutoff = (now or timezone.now()) - settings.VIDEO_ABANDONED_UPLOAD_GRACE
    deleted = _delete_abandoned_rows(cutoff)
    _delete_stray_originals()
    return deleted


def _delete_abandoned_rows(cutoff: datetime) -> int:
    deleted = 0
    while True:
        # primary: rows deleted by the previous batch must not come back from a lagging replica
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


def _delete_stray_originals() -> int:
    """Delete client uploads no video waits for: ``originals/`` holds uploads in flight only.

    ``complete`` copies the original to the server's key and deletes the client's, but
    the presigned PUT can write it again until the URL expires. An object is kept while
    its video is ``awaiting_upload`` or still reads from it (a row completed before
    originals were copied). Returns how many were deleted.
    """
    keys = {key: store.video_id_of_original(key) for key in store.list_original_keys()}
    ids = {video_id for video_id in keys.values() if _is_uuid(video_id)}
    # primary: an upload that started a moment ago must not look orphaned
    with db_router.use_primary():
        rows = list(Video.objects.filter(id__in=ids).values_list("id", "status", "original_key"))
        waiting = {str(video_id) for video_id, status, _ in rows if status == VideoStatus.AWAITING_UPLOAD}
        in_use = {original_key for _, _, original_key in rows}
    deleted = 0
    for key, video_id in keys.items():
        if video_id in waiting or key in in_use:
            continue
        store.delete(key)
        deleted += 1
    if deleted:
        logger.info("%s stray uploads deleted", deleted)
    return deleted


def _is_uuid(value: str | None) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def requeue_stuck_processing(*, now: datetime | None = None) -> int:
    """Enqueue processing again for videos in ``processing`` with no progress for longer
    than the broker's visibility timeout (a lost enqueue, a task that kept failing).

    Safe alongside a live task: processing takes an advisory lock and counts attempts.
    """
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.CELERY_VISIBILITY_TIMEOUT_SECONDS)
    # primary: a video whose processing just ended must not be queued again
    with db_router.use_primary():
        ids = list(
            Video.objects.filter(status=VideoStatus.PROCESSING, updated_at__lt=cutoff)
            .order_by("updated_at")
            .values_list("id", flat=True)[:CLEANUP_BATCH_SIZE]
        )
    for video_id in ids:
        enqueue("videos.tasks.video_process", str(video_id))
    return len(ids)
