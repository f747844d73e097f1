"""Processing of an uploaded original, read top to bottom: claim, download, probe,
poster and lowest rendition, publish, then the higher renditions.

Processed objects are immutable: a changed master playlist gets a new key. Each step is
safe to run again (an advisory lock per video, an attempts counter, state checks under
the row lock), so a redelivered task after a worker died simply starts over.
"""

from __future__ import annotations

import logging
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from tiktok import db_router
from tiktok.locks import AdvisoryLock, advisory_lock
from tiktok.outbox import enqueue_on_commit
from videos import media, services, store
from videos.models import Video, VideoStatus
from videos.selectors import video_cards_invalidate
from videos.services import enqueue_quarantine_sync, locked_video

logger = logging.getLogger(__name__)

POSTER_NAME = "poster.jpg"
MASTER_KEY = "processed/{video_id}/master-{names}.m3u8"
RENDITION_PREFIX = "processed/{video_id}/{name}/"


@dataclass
class ProcessedMedia:
    probe: media.ProbeResult
    poster_name: str
    master_key: str
    renditions: list[dict] = field(default_factory=list)
    pending: list[media.RenditionPlan] = field(default_factory=list)


def video_process(*, video_id) -> None:
    """Process an uploaded original and publish the video as soon as it can play.

    Safe to run again from the start while the video is ``processing`` (a redelivered
    task after a worker died); does nothing when the row is gone or already done.
    After ``VIDEO_PROCESSING_MAX_ATTEMPTS`` starts the video is marked failed.
    """
    video_id = uuid.UUID(str(video_id))
    with advisory_lock(AdvisoryLock.VIDEO_PROCESS, video_id) as acquired:
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
        video = locked_video(video_id)
        if video is None or video.status != VideoStatus.PROCESSING:
            return None
        if video.processing_attempts >= settings.VIDEO_PROCESSING_MAX_ATTEMPTS:
            logger.warning("video %s failed after %s processing attempts", video_id, video.processing_attempts)
            _mark_failed(video, reason="The video could not be processed; please upload it again.")
            return None
        video.processing_attempts += 1
        video.save(update_fields=["processing_attempts", "updated_at"])
        return video


def download_original(video: Video, directory: Path) -> Path:
    source = directory / "original"
    try:
        store.download(video.original_key, source)
    except store.ObjectMissingError as exc:
        raise media.MediaRejectedError("The uploaded file is gone; please upload the video again.") from exc
    return source


def _process_original(video: Video, directory: Path) -> ProcessedMedia:
    source = download_original(video, directory)
    probe = media.probe(source)
    plans = media.plan_renditions(width=probe.width, height=probe.height)
    lowest = plans[0]
    poster = directory / POSTER_NAME
    media.make_poster(source, poster, probe_result=probe, plan=plans[-1])
    rendition = _make_rendition(video.id, source, directory, plan=lowest, probe=probe)
    # Through the field's storage: ``processed/<video_id>/poster.jpg`` (a retry that finds
    # it already written gets a new name: objects are immutable behind the CDN).
    with poster.open("rb") as image:
        video.poster.save(POSTER_NAME, File(image), save=False)
    master_key = write_master(video.id, [rendition])
    return ProcessedMedia(
        probe=probe, poster_name=video.poster.name, master_key=master_key, renditions=[rendition], pending=plans[1:]
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


def write_master(video_id: uuid.UUID, renditions: list[dict]) -> str:
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
    video.poster = ""
    video.hls_master_key = ""
    video.renditions = []
    video.published_at = None
    video.save(
        update_fields=[
            "status", "failure_reason", "poster", "hls_master_key", "renditions", "published_at", "updated_at",
        ]
    )  # fmt: skip
    video_cards_invalidate([video.id])
    enqueue_on_commit("videos.tasks.video_delete_objects", str(video.id), video.owner_id)


def _processing_fail(video_id: uuid.UUID, *, reason: str) -> None:
    logger.info("video %s rejected: %s", video_id, reason)
    with transaction.atomic():
        video = locked_video(video_id)
        if video is None:
            return  # deleted meanwhile: its deletion cleans up the objects
        if video.status == VideoStatus.PROCESSING:
            _mark_failed(video, reason=reason)


def _processing_publish(video_id: uuid.UUID, processed: ProcessedMedia) -> None:
    with transaction.atomic():
        video = locked_video(video_id)
        if video is None:
            # Deleted while processing; its object deletion may have run before these
            # uploads, so clean up again.
            logger.info("video %s was deleted while processing", video_id)
            _enqueue_orphan_cleanup(video_id)
            return
        if video.status != VideoStatus.PROCESSING:
            return
        # Waits for a suspension being committed (it locks the user), so either this sees
        # it or the suspension's owner_media_sync sees this video as ready.
        video.owner = User.objects.select_for_update(no_key=True).get(pk=video.owner_id)
        video.status = VideoStatus.READY
        video.poster = processed.poster_name
        video.hls_master_key = processed.master_key
        video.renditions = processed.renditions
        video.duration = processed.probe.duration
        video.width = processed.probe.width
        video.height = processed.probe.height
        video.failure_reason = ""
        video.published_at = timezone.now()
        video.save(
            update_fields=[
                "status", "poster", "hls_master_key", "renditions", "duration", "width", "height",
                "failure_reason", "published_at", "updated_at",
            ]
        )  # fmt: skip
        video_cards_invalidate([video.id])
        if services.video_media_public(video):
            services.video_published(video_id=video.id)
        else:
            enqueue_quarantine_sync(video.id)  # taken down or owner suspended while processing
        if processed.pending:
            enqueue_on_commit("videos.tasks.video_add_renditions", str(video.id))


def _enqueue_orphan_cleanup(video_id: uuid.UUID) -> None:
    enqueue_on_commit("videos.tasks.video_delete_objects", str(video_id), None)


def video_add_renditions(*, video_id) -> None:
    """Add the renditions a published video still lacks and list them in a new master.

    Idempotent: renditions already listed are skipped; nothing happens unless the video
    is ``ready``. A rendition that cannot be made leaves the video playable as it is.
    """
    video_id = uuid.UUID(str(video_id))
    with advisory_lock(AdvisoryLock.VIDEO_RENDITIONS, video_id) as acquired:
        if not acquired:
            return
        # primary: read under the video's lock: the state processing is decided on
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
                source = download_original(video, Path(directory))
                probe = media.probe(source)
                for plan in missing:
                    added.append(_make_rendition(video_id, source, Path(directory), plan=plan, probe=probe))
            except media.MediaRejectedError as exc:
                logger.warning("video %s: higher renditions not made: %s", video_id, exc.reason)
                if not added:
                    return
        renditions = [*video.renditions, *added]
        master_key = write_master(video_id, renditions)
        with transaction.atomic():
            locked = locked_video(video_id)
            if locked is None:
                _enqueue_orphan_cleanup(video_id)
                return
            if locked.status != VideoStatus.READY:
                return
            locked.renditions = renditions
            locked.hls_master_key = master_key
            locked.save(update_fields=["renditions", "hls_master_key", "updated_at"])
            video_cards_invalidate([video_id])
            if not services.video_media_public(locked):
                enqueue_quarantine_sync(video_id)  # taken down or owner suspended meanwhile
