"""Writes for videos: upload, processing and publishing, edits, deletion, moderation, clean-up.

Flow of a video (each step one service, each write one transaction):

1. ``video_create_upload`` -> row in ``awaiting_upload`` + presigned PUT for the original.
2. ``video_complete_upload`` -> HEAD checks the object, ``processing``, enqueues
   ``video_process`` after commit.
3. ``video_process`` (worker) -> probe, poster and the *lowest* rendition, then publish at
   once (``ready``, ``feed.services.video_published``) and enqueue ``video_add_renditions``.
4. ``video_add_renditions`` (worker) -> the higher renditions and a new master playlist
   that lists them all.

Processed objects are immutable: a changed master playlist gets a new key. Objects are
deleted by ``video_delete_objects`` (a task) after the row is gone or failed.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from tiktok import db_router
from tiktok.exceptions import ApplicationError, ConflictError, NotFoundError
from videos import media, store
from videos.models import Moderation, Video, VideoStatus
from videos.selectors import parse_video_id, video_cards_invalidate

logger = logging.getLogger(__name__)

# Overridable in settings (read at call time); see the report of the videos issue.
DEFAULT_PROCESSING_MAX_ATTEMPTS = 5
# A PUT that started before the URL expired may finish a little after it.
DEFAULT_UPLOAD_COMPLETE_GRACE_SECONDS = 300
CLEANUP_BATCH_SIZE = 200
POSTER_NAME = "poster.jpg"
MASTER_KEY = "processed/{video_id}/master-{names}.m3u8"
RENDITION_PREFIX = "processed/{video_id}/{name}/"
_LOCK_KINDS = ("process", "renditions", "quarantine")


@dataclass(frozen=True)
class UploadTicket:
    """Where and how the client sends the original's bytes."""

    method: str
    url: str
    headers: dict[str, str]
    expires_at: datetime


@dataclass
class ProcessedMedia:
    probe: media.ProbeResult
    poster_key: str
    master_key: str
    renditions: list[dict] = field(default_factory=list)
    pending: list[media.RenditionPlan] = field(default_factory=list)


def processing_max_attempts() -> int:
    return int(getattr(settings, "VIDEO_PROCESSING_MAX_ATTEMPTS", DEFAULT_PROCESSING_MAX_ATTEMPTS))


def upload_complete_grace() -> timedelta:
    return timedelta(
        seconds=getattr(settings, "VIDEO_UPLOAD_COMPLETE_GRACE_SECONDS", DEFAULT_UPLOAD_COMPLETE_GRACE_SECONDS)
    )


def _enqueue(task_name: str, *args) -> None:
    """Enqueue a videos task after the surrounding transaction commits.

    A broker outage must not undo a committed state change: the failure is logged and
    the beat tasks (``requeue_stuck_processing``) pick the work up later.
    """
    from videos import tasks

    task = getattr(tasks, task_name)
    transaction.on_commit(lambda: task.delay(*args), robust=True)


def _clean_caption(caption: str | None) -> str:
    caption = (caption or "").strip()
    limit = settings.VIDEO_CAPTION_MAX_LENGTH
    if len(caption) > limit:
        raise ApplicationError(
            f"The caption is too long; the limit is {limit} characters.",
            code="caption_too_long",
            fields={"caption": [f"At most {limit} characters."]},
        )
    return caption


def _normalise_content_type(content_type: str) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


# --- Upload ---------------------------------------------------------------------------


def video_create_upload(*, owner, caption: str, content_type: str, size_bytes: int) -> tuple[Video, UploadTicket]:
    """Create a video awaiting its upload and a presigned PUT for the original."""
    caption = _clean_caption(caption)
    content_type = _normalise_content_type(content_type)
    allowed = [item.lower() for item in settings.VIDEO_ALLOWED_CONTENT_TYPES]
    if content_type not in allowed:
        raise ApplicationError(
            f"Unsupported video type; use one of {', '.join(allowed)}.",
            code="unsupported_content_type",
            fields={"content_type": [f"One of {', '.join(allowed)}."]},
        )
    limit = settings.VIDEO_MAX_UPLOAD_BYTES
    if size_bytes <= 0:
        raise ApplicationError(
            "size_bytes must be the file's size in bytes.", code="invalid_size", fields={"size_bytes": ["Above 0."]}
        )
    if size_bytes > limit:
        raise ApplicationError(
            f"The file is too large; the limit is {limit} bytes.",
            code="upload_too_large",
            fields={"size_bytes": [f"At most {limit}."]},
        )
    video_id = uuid.uuid4()
    key = store.original_key(owner_id=owner.pk, video_id=video_id)
    expires_in = settings.VIDEO_UPLOAD_URL_EXPIRY_SECONDS
    url = store.presigned_put(key=key, content_type=content_type, size_bytes=size_bytes, expires_in=expires_in)
    with transaction.atomic():
        video = Video.objects.create(
            id=video_id,
            owner=owner,
            caption=caption,
            status=VideoStatus.AWAITING_UPLOAD,
            content_type=content_type,
            size_bytes=size_bytes,
            original_key=key,
            upload_expires_at=timezone.now() + timedelta(seconds=expires_in),
        )
    ticket = UploadTicket(
        method="PUT", url=url, headers={"Content-Type": content_type}, expires_at=video.upload_expires_at
    )
    return video, ticket


def video_complete_upload(*, video_id, owner) -> Video:
    """Check the uploaded original and start processing it.

    Idempotent: a video past ``awaiting_upload`` is returned as it is. A missing object
    is a 409 (``upload_missing``); an expired upload a 410 (``upload_expired``, the row is
    left for ``delete_abandoned_uploads``). An object whose size or type differs from
    what was declared is deleted and the video stays ``awaiting_upload``, so the client
    may PUT the right file again while the URL is valid (400 ``upload_mismatch``).
    """
    with db_router.use_primary():
        video = _owner_video(video_id=video_id, owner=owner)
    if video.status != VideoStatus.AWAITING_UPLOAD:
        return video
    if timezone.now() > video.upload_expires_at + upload_complete_grace():
        raise ApplicationError(
            "The upload URL has expired; start a new upload.", code="upload_expired", status_code=410
        )
    try:
        found = store.head(video.original_key)
    except store.ObjectMissingError as exc:
        raise ConflictError(
            "The file has not arrived yet; PUT it to the upload URL first.", code="upload_missing"
        ) from exc
    problems: dict[str, list[str]] = {}
    if found.size != video.size_bytes or found.size > settings.VIDEO_MAX_UPLOAD_BYTES:
        problems["size_bytes"] = [f"Declared {video.size_bytes} bytes, received {found.size}."]
    if _normalise_content_type(found.content_type) != video.content_type:
        problems["content_type"] = [f"Declared {video.content_type}, received {found.content_type or 'none'}."]
    if problems:
        store.delete(video.original_key)
        raise ApplicationError(
            "The uploaded file does not match what was declared; upload it again.",
            code="upload_mismatch",
            fields=problems,
        )
    with transaction.atomic():
        video = _owner_video(video_id=video_id, owner=owner, lock=True)
        if video.status != VideoStatus.AWAITING_UPLOAD:
            return video  # a concurrent complete won
        video.status = VideoStatus.PROCESSING
        video.processing_attempts = 0
        video.failure_reason = ""
        video.save(update_fields=["status", "processing_attempts", "failure_reason", "updated_at"])
        video_cards_invalidate([video.id])
        _enqueue("video_process", str(video.id))
    return video


def _owner_video(*, video_id, owner, lock: bool = False) -> Video:
    queryset = Video.objects.select_related("owner")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    video = queryset.filter(id=parse_video_id(video_id), owner_id=owner.pk).first()
    if video is None:
        raise NotFoundError("No such video.")
    return video


# --- Processing -----------------------------------------------------------------------


def _lock_key(kind: str, video_id: uuid.UUID) -> int:
    digest = hashlib.blake2b(f"videos.{kind}:{video_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def _advisory_lock(kind: str, video_id: uuid.UUID) -> Iterator[bool]:
    """A session-level Postgres advisory lock on the primary, taken without waiting.

    Two deliveries of the same task never work on one video at once; a worker that
    dies releases the lock with its connection, so a redelivery can start at once.
    """
    assert kind in _LOCK_KINDS
    key = _lock_key(kind, video_id)
    connection = connections[db_router.PRIMARY]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
            except Exception:  # noqa: BLE001 - a closed connection has released it already
                logger.warning("could not release the %s lock of video %s", kind, video_id)


def _locked_video(video_id: uuid.UUID) -> Video | None:
    return Video.objects.select_for_update(of=("self",)).select_related("owner").filter(id=video_id).first()


def video_process(*, video_id) -> None:
    """Process an uploaded original and publish the video as soon as it can play.

    Safe to run again from the start while the video is ``processing`` (a redelivered
    task after a worker died); does nothing when the row is gone or already done.
    After ``VIDEO_PROCESSING_MAX_ATTEMPTS`` starts the video is marked failed.
    """
    video_id = uuid.UUID(str(video_id))
    with _advisory_lock("process", video_id) as acquired:
        if not acquired:
            logger.info("video %s is being processed by another task", video_id)
            return
        video = _processing_claim(video_id)
        if video is None:
            return
        with tempfile.TemporaryDirectory(prefix="video-") as directory:
            try:
                processed = _process_original(video, Path(directory))
            except media.MediaRejectedError as exc:
                _processing_fail(video_id, reason=exc.reason)
                return
        _processing_publish(video_id, processed)


def _processing_claim(video_id: uuid.UUID) -> Video | None:
    with transaction.atomic():
        video = _locked_video(video_id)
        if video is None or video.status != VideoStatus.PROCESSING:
            return None
        if video.processing_attempts >= processing_max_attempts():
            logger.warning("video %s failed after %s processing attempts", video_id, video.processing_attempts)
            _mark_failed(video, reason="The video could not be processed; please upload it again.")
            return None
        video.processing_attempts += 1
        video.save(update_fields=["processing_attempts", "updated_at"])
        return video


def _download_original(video: Video, directory: Path) -> Path:
    source = directory / "original"
    try:
        store.download(video.original_key, source)
    except store.ObjectMissingError as exc:
        raise media.MediaRejectedError("The uploaded file is gone; please upload the video again.") from exc
    return source


def _process_original(video: Video, directory: Path) -> ProcessedMedia:
    source = _download_original(video, directory)
    probe = media.probe(source)
    plans = media.plan_renditions(width=probe.width, height=probe.height)
    lowest = plans[0]
    poster = directory / POSTER_NAME
    media.make_poster(source, poster, probe_result=probe, plan=plans[-1])
    rendition = _make_rendition(video.id, source, directory, plan=lowest, probe=probe)
    poster_key = f"{store.processed_prefix(video_id=video.id)}{POSTER_NAME}"
    store.upload(poster, poster_key)
    master_key = _write_master(video.id, [rendition])
    return ProcessedMedia(
        probe=probe, poster_key=poster_key, master_key=master_key, renditions=[rendition], pending=plans[1:]
    )


def _make_rendition(
    video_id: uuid.UUID, source: Path, directory: Path, *, plan: media.RenditionPlan, probe: media.ProbeResult
) -> dict:
    """Transcode and upload one rendition; returns its ``Video.renditions`` entry."""
    playlist = media.transcode_hls(source, directory / plan.name, plan=plan, probe_result=probe)
    prefix = RENDITION_PREFIX.format(video_id=video_id, name=plan.name)
    # Segments first, the playlist that points at them last.
    for path in sorted(playlist.parent.glob("*.ts")):
        store.upload(path, prefix + path.name)
    store.upload(playlist, prefix + playlist.name)
    peak, average = media.measure(playlist)
    return media.Rendition(
        name=plan.name,
        width=plan.width,
        height=plan.height,
        bandwidth=peak,
        average_bandwidth=average,
        codecs=media.codecs_for(probe),
        playlist_key=prefix + playlist.name,
    ).as_dict()


def _write_master(video_id: uuid.UUID, renditions: list[dict]) -> str:
    """Upload a master playlist listing ``renditions``; its key names them (immutable)."""
    names = "-".join(item["name"] for item in sorted(renditions, key=lambda item: item["bandwidth"]))
    key = MASTER_KEY.format(video_id=video_id, names=names)
    store.upload_bytes(
        media.master_playlist(renditions, master_key=key).encode(),
        key,
        content_type=store.CONTENT_TYPES[".m3u8"],
    )
    return key


def _mark_failed(video: Video, *, reason: str) -> None:
    """Inside a transaction holding the row: fail the video and clean up its objects."""
    video.status = VideoStatus.FAILED
    video.failure_reason = reason[:300]
    video.poster_key = ""
    video.hls_master_key = ""
    video.renditions = []
    video.published_at = None
    video.save(
        update_fields=[
            "status", "failure_reason", "poster_key", "hls_master_key", "renditions", "published_at", "updated_at",
        ]
    )  # fmt: skip
    video_cards_invalidate([video.id])
    _enqueue("video_delete_objects", str(video.id), video.owner_id)


def _processing_fail(video_id: uuid.UUID, *, reason: str) -> None:
    logger.info("video %s rejected: %s", video_id, reason)
    with transaction.atomic():
        video = _locked_video(video_id)
        if video is None:
            return  # deleted meanwhile: its deletion cleans up the objects
        if video.status == VideoStatus.PROCESSING:
            _mark_failed(video, reason=reason)


def _processing_publish(video_id: uuid.UUID, processed: ProcessedMedia) -> None:
    with transaction.atomic():
        video = _locked_video(video_id)
        if video is None:
            # Deleted while processing; its object deletion may have run before these
            # uploads, so clean up again.
            logger.info("video %s was deleted while processing", video_id)
            _enqueue_orphan_cleanup(video_id)
            return
        if video.status != VideoStatus.PROCESSING:
            return
        video.status = VideoStatus.READY
        video.poster_key = processed.poster_key
        video.hls_master_key = processed.master_key
        video.renditions = processed.renditions
        video.duration = processed.probe.duration
        video.width = processed.probe.width
        video.height = processed.probe.height
        video.failure_reason = ""
        video.published_at = timezone.now()
        video.save(
            update_fields=[
                "status", "poster_key", "hls_master_key", "renditions", "duration", "width", "height",
                "failure_reason", "published_at", "updated_at",
            ]
        )  # fmt: skip
        video_cards_invalidate([video.id])
        if video.moderation == Moderation.VISIBLE:
            from feed import services as feed_services

            feed_services.video_published(video_id=video.id)
        else:
            _enqueue_quarantine_sync(video.id)  # taken down while it was processing
        if processed.pending:
            _enqueue("video_add_renditions", str(video.id))


def _enqueue_orphan_cleanup(video_id: uuid.UUID) -> None:
    _enqueue("video_delete_objects", str(video_id), None)


def video_add_renditions(*, video_id) -> None:
    """Add the renditions a published video still lacks and list them in a new master.

    Idempotent: renditions already listed are skipped; nothing happens unless the video
    is ``ready``. A rendition that cannot be made leaves the video playable as it is.
    """
    video_id = uuid.UUID(str(video_id))
    with _advisory_lock("renditions", video_id) as acquired:
        if not acquired:
            return
        with db_router.use_primary():
            video = Video.objects.filter(id=video_id).first()
        if video is None or video.status != VideoStatus.READY or not video.width or not video.height:
            return
        done = {item["name"] for item in video.renditions}
        missing = [
            plan for plan in media.plan_renditions(width=video.width, height=video.height) if plan.name not in done
        ]
        if not missing:
            return
        added: list[dict] = []
        with tempfile.TemporaryDirectory(prefix="video-") as directory:
            try:
                source = _download_original(video, Path(directory))
                probe = media.probe(source)
                for plan in missing:
                    added.append(_make_rendition(video_id, source, Path(directory), plan=plan, probe=probe))
            except media.MediaRejectedError as exc:
                logger.warning("video %s: higher renditions not made: %s", video_id, exc.reason)
                if not added:
                    return
        renditions = [*video.renditions, *added]
        master_key = _write_master(video_id, renditions)
        with transaction.atomic():
            locked = _locked_video(video_id)
            if locked is None:
                _enqueue_orphan_cleanup(video_id)
                return
            if locked.status != VideoStatus.READY:
                return
            locked.renditions = renditions
            locked.hls_master_key = master_key
            locked.save(update_fields=["renditions", "hls_master_key", "updated_at"])
            video_cards_invalidate([video_id])
            if locked.moderation != Moderation.VISIBLE:
                _enqueue_quarantine_sync(video_id)  # taken down while these were made


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


# --- Owner edits ----------------------------------------------------------------------


def video_update_caption(*, video_id, owner, caption: str) -> Video:
    caption = _clean_caption(caption)
    with transaction.atomic():
        video = _owner_video(video_id=video_id, owner=owner, lock=True)
        if video.caption != caption:
            video.caption = caption
            video.save(update_fields=["caption", "updated_at"])
            video_cards_invalidate([video.id])
    return video


def video_delete(*, video_id, owner) -> None:
    """Delete the owner's video: out of feeds now, objects removed in the background."""
    with transaction.atomic():
        video = _owner_video(video_id=video_id, owner=owner, lock=True)
        deleted_id, owner_id = video.id, video.owner_id
        was_published = video.status == VideoStatus.READY
        video.delete()
        video_cards_invalidate([deleted_id])
        if was_published:
            from feed import services as feed_services

            feed_services.video_withdrawn(video_id=deleted_id, owner_id=owner_id)
        _enqueue("video_delete_objects", str(deleted_id), owner_id)


# --- Moderation -----------------------------------------------------------------------


_MODERATION_AUDIT_ACTIONS = {
    Moderation.HIDDEN: "video_hide",
    Moderation.REMOVED: "video_remove",
    Moderation.VISIBLE: "video_restore",
}


def video_set_moderation(
    *, video: Video, moderation: str, actor=None, reason: str = "", final: bool | None = None
) -> Video:
    """Set a video's moderation state; feeds follow (withdraw or publish again).

    A moderator's decision (``actor`` given; ``final`` overrides) is final: it sets
    ``moderation_final``, so reports no longer hide the video automatically. Every change
    and every moderator decision is written to the audit log with ``reason``. Leaving
    ``visible`` (or returning to it) also moves the video's objects into (out of)
    quarantine in the background, so its playback URLs stop (start) working.
    """
    from tiktok.audit import audit_record

    if moderation not in Moderation.values:
        raise ApplicationError(
            "Unknown moderation state.", fields={"moderation": [f"One of {', '.join(Moderation.values)}."]}
        )
    final = actor is not None if final is None else final
    reason = (reason or "").strip()
    if actor is not None and not reason:
        raise ApplicationError("A reason is required.", fields={"reason": ["This field is required."]})
    from feed import services as feed_services

    with transaction.atomic():
        locked = _locked_video(video.id)
        if locked is None:
            raise NotFoundError("No such video.")
        previous = locked.moderation
        fields = []
        if previous != moderation:
            locked.moderation = moderation
            fields.append("moderation")
        if final and not locked.moderation_final:
            locked.moderation_final = True
            fields.append("moderation_final")
        if fields:
            locked.save(update_fields=[*fields, "updated_at"])
        if previous != moderation:
            video_cards_invalidate([locked.id])
            if previous == Moderation.VISIBLE:
                feed_services.video_withdrawn(video_id=locked.id, owner_id=locked.owner_id)
            elif moderation == Moderation.VISIBLE and locked.status == VideoStatus.READY:
                feed_services.video_published(video_id=locked.id)
            if (previous == Moderation.VISIBLE) != (moderation == Moderation.VISIBLE):
                _enqueue_quarantine_sync(locked.id)
            logger.info(
                "video %s moderation %s -> %s by %s", locked.id, previous, moderation, getattr(actor, "pk", None)
            )
        if previous != moderation or actor is not None:
            audit_record(
                actor=actor,
                action=_MODERATION_AUDIT_ACTIONS[moderation],
                target=locked,
                reason=reason,
                changes={"moderation": [previous, moderation], "final": locked.moderation_final},
            )
    video.moderation = locked.moderation
    video.moderation_final = locked.moderation_final
    return locked


def _enqueue_quarantine_sync(video_id: uuid.UUID) -> None:
    from tiktok.outbox import enqueue_on_commit
    from videos import tasks

    enqueue_on_commit(tasks.video_quarantine_sync, str(video_id))


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
    with _advisory_lock("quarantine", video_id) as acquired:
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
                _enqueue("video_add_renditions", str(video_id))
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
    from videos import tasks

    cutoff = (now or timezone.now()) - timedelta(seconds=settings.CELERY_VISIBILITY_TIMEOUT_SECONDS)
    with db_router.use_primary():
        ids = list(
            Video.objects.filter(status=VideoStatus.PROCESSING, updated_at__lt=cutoff)
            .order_by("updated_at")
            .values_list("id", flat=True)[:CLEANUP_BATCH_SIZE]
        )
    for video_id in ids:
        tasks.video_process.delay(str(video_id))
    return len(ids)
