"""Writes for videos requested by people: upload, owner edits, and the moderation state.

Flow of a video (each step one service, each write one transaction):

1. ``video_create_upload`` -> row in ``awaiting_upload`` + presigned PUT for the original.
2. ``video_complete_upload`` -> HEAD checks the object, ``processing``, enqueues
   ``videos.tasks.video_process`` after commit.
3. ``videos.processing`` (worker) -> probe, poster and the lowest rendition, publish,
   then the higher renditions.
4. ``videos.housekeeping`` (worker and beat) -> objects of gone or failed videos,
   quarantine of taken-down media, abandoned uploads, stuck processing.

Higher layers learn of changes through tasks named in the outbox: publishing a video
publishes ``VideoPublished``, withdrawing one ``VideoWithdrawn`` (``videos.events``).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tiktok import db_router, events
from tiktok.exceptions import ApplicationError, ConflictError, NotFoundError
from tiktok.outbox import enqueue_on_commit
from videos import hashtags, store
from videos.events import VideoCaptionChanged, VideoPublished, VideoWithdrawn
from videos.models import Moderation, Video, VideoStatus
from videos.selectors import parse_video_id, video_cards_invalidate

logger = logging.getLogger(__name__)


def video_published(*, video_id) -> None:
    """Tell the feeds a video became ready and visible (fan-out after commit), and the
    users its caption mentions."""
    events.publish(VideoPublished(video_id=str(video_id)))


def video_withdrawn(*, video_id, owner_id: int | None, feed_id: int | None = None) -> None:
    """Tell the feeds a video was deleted, hidden or removed (purge after commit).

    Reads drop it at once anyway: cards are only shown for public videos. A deleted
    video's row is gone when the purge runs: pass its ``feed_id`` (the feeds' member).
    """
    events.publish(VideoWithdrawn(video_id=str(video_id), owner_id=owner_id, feed_id=feed_id))


def locked_video(video_id: uuid.UUID) -> Video | None:
    """The video row locked for update (inside a transaction), with its owner."""
    return Video.objects.select_for_update(of=("self",)).select_related("owner").filter(id=video_id).first()


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


# --- Upload ---------------------------------------------------------------------------


def video_create_upload(*, owner, caption: str, content_type: str, size_bytes: int) -> tuple[Video, store.UploadTicket]:
    """Create a video awaiting its upload and a presigned PUT for the original."""
    caption = _clean_caption(caption)
    content_type = store.check_declared_upload(
        content_type=content_type,
        size_bytes=size_bytes,
        allowed=settings.VIDEO_ALLOWED_CONTENT_TYPES,
        limit=settings.VIDEO_MAX_UPLOAD_BYTES,
        kind="video",
    )
    video_id = uuid.uuid4()
    key = store.original_key(owner_id=owner.pk, video_id=video_id)
    ticket = store.upload_ticket(
        key=key, content_type=content_type, size_bytes=size_bytes, expires_in=settings.VIDEO_UPLOAD_URL_EXPIRY_SECONDS
    )
    with transaction.atomic():
        video = Video.objects.create(
            id=video_id,
            owner=owner,
            caption=caption,
            status=VideoStatus.AWAITING_UPLOAD,
            content_type=content_type,
            size_bytes=size_bytes,
            original_key=key,
            upload_expires_at=ticket.expires_at,
        )
        hashtags.video_hashtags_set(video=video)
    return video, ticket


def video_complete_upload(*, video_id, owner) -> Video:
    """Check the uploaded original and start processing it.

    Idempotent: a video past ``awaiting_upload`` is returned as it is. A missing object
    is a 409 (``upload_missing``); an expired upload a 410 (``upload_expired``, the row is
    left for ``delete_abandoned_uploads``). An object whose size or type differs from
    what was declared is deleted and the video stays ``awaiting_upload``, so the client
    may PUT the right file again while the URL is valid (400 ``upload_mismatch``).

    The checked bytes are copied to ``verified/<video_id>/…`` (``original_key`` then
    names the copy) and the client's key is deleted: a PUT through the still-valid URL
    after this cannot change what is processed.
    """
    # primary: the upload ticket was written a moment ago
    with db_router.use_primary():
        video = _owner_video(video_id=video_id, owner=owner)
    if video.status != VideoStatus.AWAITING_UPLOAD:
        return video
    if timezone.now() > video.upload_expires_at + timedelta(seconds=settings.VIDEO_UPLOAD_COMPLETE_GRACE_SECONDS):
        raise ApplicationError(
            "The upload URL has expired; start a new upload.", code="upload_expired", status_code=410
        )
    try:
        found = store.head(video.original_key)
    except store.ObjectMissingError as exc:
        raise ConflictError(
            "The file has not arrived yet; PUT it to the upload URL first.", code="upload_missing"
        ) from exc
    problems = store.upload_mismatches(found, size_bytes=video.size_bytes, content_type=video.content_type)
    if found.size > settings.VIDEO_MAX_UPLOAD_BYTES:
        problems["size_bytes"] = [f"Declared {video.size_bytes} bytes, received {found.size}."]
    if problems:
        store.delete(video.original_key)
        raise ApplicationError(
            "The uploaded file does not match what was declared; upload it again.",
            code="upload_mismatch",
            fields=problems,
        )
    client_key = video.original_key
    verified_key = _original_take_over(video, found)
    with transaction.atomic():
        video = _owner_video(video_id=video_id, owner=owner, lock=True)
        won = video.status == VideoStatus.AWAITING_UPLOAD
        if won:
            video.status = VideoStatus.PROCESSING
            video.original_key = verified_key
            video.processing_attempts = 0
            video.failure_reason = ""
            video.save(update_fields=["status", "original_key", "processing_attempts", "failure_reason", "updated_at"])
            video_cards_invalidate([video.id])
            enqueue_on_commit("videos.tasks.video_process", str(video.id))
    # A concurrent complete won: its own copy is the one processed.
    _delete_quietly(client_key if won else verified_key)
    return video


def _original_take_over(video: Video, found: store.ObjectInfo) -> str:
    """Copy the checked original to a key only the server writes; returns that key.

    The presigned PUT stays usable until it expires, so processing must never read the
    client's key: the copy is pinned to the ETag that was checked, and everything made
    from the video (poster, every rendition, later retries) reads the copy.
    """
    verified_key = store.new_verified_key(video_id=video.id)
    try:
        store.copy_pinned(video.original_key, verified_key, etag=found.etag)
    except (store.ObjectChangedError, store.ObjectMissingError) as exc:
        raise ConflictError(
            "The file changed while it was being checked; complete the upload again.", code="upload_changed"
        ) from exc
    return verified_key


def _delete_quietly(key: str) -> None:
    """Best effort: ``delete_abandoned_uploads`` sweeps what is left (and re-PUTs)."""
    try:
        store.delete(key)
    except store.StoreUnavailableError:
        logger.warning("object %s left for the clean-up", key)


def _owner_video(*, video_id, owner, lock: bool = False) -> Video:
    queryset = Video.objects.select_related("owner")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    video = queryset.filter(id=parse_video_id(video_id), owner_id=owner.pk).first()
    if video is None:
        raise NotFoundError("No such video.")
    return video


# --- Owner edits ----------------------------------------------------------------------


def video_update_caption(*, video_id, owner, caption: str) -> Video:
    caption = _clean_caption(caption)
    with transaction.atomic():
        video = _owner_video(video_id=video_id, owner=owner, lock=True)
        if video.caption != caption:
            video.caption = caption
            video.save(update_fields=["caption", "updated_at"])
            hashtags.video_hashtags_set(video=video)
            video_cards_invalidate([video.id])
            # Users the new caption mentions hear of it (only while the video is public).
            events.publish(VideoCaptionChanged(video_id=str(video.id)))
    return video


def video_delete(*, video_id, owner) -> None:
    """Delete the owner's video: out of feeds now, objects removed in the background."""
    with transaction.atomic():
        video = _owner_video(video_id=video_id, owner=owner, lock=True)
        deleted_id, owner_id = video.id, video.owner_id
        was_published = video.status == VideoStatus.READY
        video_cards_invalidate([deleted_id])  # while the row exists (the card keys need its feed id)
        video.delete()
        if was_published:
            video_withdrawn(video_id=deleted_id, owner_id=owner_id, feed_id=video.feed_id)
        enqueue_on_commit("videos.tasks.video_delete_objects", str(deleted_id), owner_id)


# --- Moderation -----------------------------------------------------------------------


@dataclass(frozen=True)
class ModerationChange:
    video: Video
    previous: str

    @property
    def changed(self) -> bool:
        return self.previous != self.video.moderation


def video_set_moderation(*, video_id, moderation: str, final: bool) -> ModerationChange:
    """Set a video's moderation state (inside the caller's transaction); feeds follow.

    ``final`` marks a moderator's decision: reports no longer hide the video
    automatically. Leaving ``visible`` withdraws the video from feeds and moves its
    media into quarantine in the background; returning to it does the reverse. Who
    decided and why is the moderation app's to record.
    """
    if moderation not in Moderation.values:
        raise ApplicationError(
            "Unknown moderation state.", fields={"moderation": [f"One of {', '.join(Moderation.values)}."]}
        )
    with transaction.atomic():
        locked = locked_video(video_id)
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
                video_withdrawn(video_id=locked.id, owner_id=locked.owner_id)
            elif moderation == Moderation.VISIBLE and locked.status == VideoStatus.READY:
                video_published(video_id=locked.id)
            if (previous == Moderation.VISIBLE) != (moderation == Moderation.VISIBLE):
                enqueue_quarantine_sync(locked.id)
            logger.info("video %s moderation %s -> %s", locked.id, previous, moderation)
    return ModerationChange(video=locked, previous=previous)


def video_media_public(video: Video) -> bool:
    """Whether a video's media may stay at its playable keys (else it is quarantined).

    Visible and its owner not suspended: a takedown and a suspension both take the media
    away (``housekeeping.video_quarantine_sync``). Needs ``video.owner`` loaded.
    """
    return video.moderation == Moderation.VISIBLE and video.owner.suspended_at is None


def enqueue_quarantine_sync(video_id: uuid.UUID) -> None:
    """Move the video's media into or out of quarantine after commit (``housekeeping``)."""
    enqueue_on_commit("videos.tasks.video_quarantine_sync", str(video_id))
