"""The AV1 ladder of a popular video: CMAF/fMP4 HLS renditions beside the H.264 ones.

AV1 costs far more CPU to encode than H.264 but needs fewer bytes for the same quality,
so it pays only for videos watched often enough (BENCHMARKS.md, "AV1 ladder"). Once a
video's view count crosses ``AV1_VIEW_THRESHOLD`` (``av1_views_counted``, called where
view counts become known), the ``media`` queue encodes one AV1 rendition per H.264 rung
under ``processed/<video_id>/av1-<name>/`` and lists them in a new master playlist with
the exact ``CODECS`` of the encode, so a player that decodes AV1 picks them and any
other keeps H.264. Everything lives under the video's processed prefix, so takedown
(quarantine, deletion, CDN purge) and CDN tokens cover it like the rest.
"""

from __future__ import annotations

import logging
import struct
import tempfile
import uuid
from pathlib import Path

from django.conf import settings
from django.db import transaction

from tiktok import db_router
from tiktok.locks import AdvisoryLock, advisory_lock
from tiktok.outbox import enqueue_on_commit
from videos import media, processing, services, store
from videos.models import Video, VideoStatus
from videos.selectors import video_cards_invalidate
from videos.services import enqueue_quarantine_sync, locked_video

logger = logging.getLogger(__name__)

NAME_PREFIX = "av1-"
INIT_NAME = "init.mp4"
SEGMENT_CONTENT_TYPE = "video/iso.segment"
INIT_CONTENT_TYPE = "video/mp4"
TASK = "videos.tasks.video_encode_av1"


class Av1Busy(store.StoreUnavailableError):
    """The video's renditions are being changed by another task; the task retries."""

    code = "renditions_busy"


def is_av1(rendition: dict) -> bool:
    return rendition["name"].startswith(NAME_PREFIX)


def av1_codec_string(init_segment: bytes) -> str:
    """RFC 6381 ``av01.P.LLT.DD`` from the ``av1C`` box of an fMP4 init segment.

    ``P`` seq_profile, ``LL`` seq_level_idx_0, ``T`` tier (M/H), ``DD`` bit depth: what
    the encoder really wrote, not what it was asked for.
    """
    at = init_segment.find(b"av1C")
    if at < 0 or len(init_segment) < at + 8:
        raise ValueError("no av1C box in the init segment")
    _marker, first, second = struct.unpack_from(">BBB", init_segment, at + 4)
    profile, level = first >> 5, first & 0x1F
    tier = "H" if second & 0x80 else "M"
    high_bitdepth, twelve_bit = bool(second & 0x40), bool(second & 0x20)
    depth = 12 if twelve_bit else 10 if high_bitdepth else 8
    return f"av01.{profile}.{level:02d}{tier}.{depth:02d}"


def encoder_options(plan: media.RenditionPlan) -> dict:
    """Preset, CRF and peak bitrate of an AV1 rung (the H.264 rung's cap scaled down)."""
    return {
        "preset": settings.AV1_PRESET,
        "crf": settings.AV1_CRF,
        "max_bitrate": int(plan.max_bitrate * settings.AV1_MAX_BITRATE_RATIO),
    }


def av1_views_counted(*, views_added: dict[str, int]) -> int:
    """Enqueue the AV1 encode of each video whose view count just crossed the threshold.

    ``views_added`` maps video ids to the views just added to ``views_count`` (committed).
    A video is enqueued once, in the flush that takes it from below the threshold to at
    or above it; the task itself is idempotent. Returns how many were enqueued.
    """
    threshold = settings.AV1_VIEW_THRESHOLD
    ids = [video_id for video_id, added in views_added.items() if added > 0]
    if not ids:
        return 0
    # primary: the counts just flushed decide which videos get the ladder
    with db_router.use_primary():
        counts = dict(
            Video.objects.filter(id__in=ids, status=VideoStatus.READY, views_count__gte=threshold).values_list(
                "id", "views_count"
            )
        )
    crossed = [video_id for video_id, count in counts.items() if count - views_added.get(str(video_id), 0) < threshold]
    for video_id in crossed:
        enqueue_on_commit(TASK, str(video_id))
    if crossed:
        logger.info("%s videos crossed %s views: AV1 ladder enqueued", len(crossed), threshold)
    return len(crossed)


def video_encode_av1(*, video_id) -> list[str]:
    """Encode the AV1 ladder of a ready video and list it in a new master playlist.

    Idempotent: rungs already encoded are skipped, so a second run does nothing. Nothing
    happens unless the video is ready and public (a taken-down video is not encoded).
    Holds the renditions lock, so it never races the H.264 follow-up renditions.
    Returns the names of the renditions added.
    """
    video_id = uuid.UUID(str(video_id))
    with advisory_lock(AdvisoryLock.VIDEO_RENDITIONS, video_id) as acquired:
        if not acquired:
            raise Av1Busy("The video's renditions are being changed; try again shortly.")
        # primary: read under the video's lock: a takedown a moment ago stops the encode
        with db_router.use_primary():
            video = Video.objects.select_related("owner").filter(id=video_id).first()
        if video is None or video.status != VideoStatus.READY or not services.video_media_public(video):
            return []
        done = {item["name"] for item in video.renditions}
        missing = [
            plan
            for plan in media.plan_renditions(width=video.width, height=video.height)
            if NAME_PREFIX + plan.name not in done
        ]
        if not missing:
            return []
        added = _encode(video, missing)
        if added:
            _publish(video_id, added)
        return [item["name"] for item in added]


def _encode(video: Video, plans: list[media.RenditionPlan]) -> list[dict]:
    added: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="video-av1-") as directory:
        try:
            source = processing.download_original(video, Path(directory))
            probe = media.probe(source)
            for plan in plans:
                added.append(_make_rendition(video.id, source, Path(directory), plan=plan, probe=probe))
        except media.MediaRejectedError as exc:
            logger.warning("video %s: AV1 renditions not made: %s", video.id, exc.reason)
    return added


def _make_rendition(
    video_id: uuid.UUID, source: Path, directory: Path, *, plan: media.RenditionPlan, probe: media.ProbeResult
) -> dict:
    name = NAME_PREFIX + plan.name
    playlist = media.transcode_hls_av1(source, directory / name, plan=plan, probe_result=probe, **encoder_options(plan))
    prefix = processing.RENDITION_PREFIX.format(video_id=video_id, name=name)
    init = playlist.parent / INIT_NAME
    store.upload(init, prefix + INIT_NAME, content_type=INIT_CONTENT_TYPE)
    for path in sorted(playlist.parent.glob("*.m4s")):
        store.upload(path, prefix + path.name, content_type=SEGMENT_CONTENT_TYPE)
    store.upload(playlist, prefix + playlist.name)
    peak, average = media.measure(playlist)
    video_codec = av1_codec_string(init.read_bytes())
    return media.Rendition(
        name=name,
        width=plan.width,
        height=plan.height,
        bandwidth=peak,
        average_bandwidth=average,
        codecs=f"{video_codec},{media.AUDIO_CODEC}" if probe.has_audio else video_codec,
        playlist_key=prefix + playlist.name,
    ).as_dict()


def _publish(video_id: uuid.UUID, added: list[dict]) -> None:
    with transaction.atomic():
        locked = locked_video(video_id)
        if locked is None:
            enqueue_on_commit("videos.tasks.video_delete_objects", str(video_id), None)
            return
        if locked.status != VideoStatus.READY:
            return
        names = {item["name"] for item in added}
        renditions = [item for item in locked.renditions if item["name"] not in names] + added
        locked.renditions = renditions
        locked.hls_master_key = processing.write_master(video_id, renditions)
        locked.save(update_fields=["renditions", "hls_master_key", "updated_at"])
        video_cards_invalidate([video_id])
        if not services.video_media_public(locked):
            enqueue_quarantine_sync(video_id)  # taken down or owner suspended meanwhile
