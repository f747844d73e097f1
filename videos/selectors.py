"""Reads for videos, including the one video card every endpoint returns.

Contract used by other apps (keep these signatures):
- ``video_cards(video_ids=..., viewer=...)`` -> cards in the given order, public ones
  only (plus the viewer's own videos in any state).
- ``video_get_public(video_id=...)`` -> a ready, visible video or ``NotFoundError``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.conf import settings

from tiktok.exceptions import NotFoundError
from videos.models import Moderation, Video, VideoStatus


def _parse_ids(video_ids: Iterable) -> list[uuid.UUID]:
    parsed = []
    for value in video_ids:
        try:
            parsed.append(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))
        except ValueError:
            continue
    return parsed


def video_get_public(*, video_id) -> Video:
    ids = _parse_ids([video_id])
    video = (
        Video.objects.filter(
            id__in=ids, status=VideoStatus.READY, moderation=Moderation.VISIBLE, owner__suspended_at__isnull=True
        )
        .select_related("owner")
        .first()
    )
    if video is None:
        raise NotFoundError("No such video.")
    return video


def playback_url(key: str) -> str | None:
    """URL for an object key: on the CDN when configured, else a short-lived signed GET."""
    if not key:
        return None
    if settings.CDN_BASE_URL:
        return f"{settings.CDN_BASE_URL.rstrip('/')}/{key}"
    from tiktok.storage import s3_client

    return s3_client().generate_presigned_url(
        "get_object",
        Params={"Bucket": settings.AWS_STORAGE_BUCKET_NAME, "Key": key},
        ExpiresIn=settings.VIDEO_PLAYBACK_URL_EXPIRY_SECONDS,
    )


def card_base(video: Video) -> dict:
    """The viewer-independent part of a card (cacheable)."""
    return {
        "id": str(video.id),
        "owner_id": video.owner_id,
        "status": video.status,
        "moderation": video.moderation,
        "caption": video.caption,
        "creator": {"username": video.owner.username, "display_name": video.owner.display_name},
        "creator_suspended": video.owner.suspended_at is not None,
        "hls_master_key": video.hls_master_key,
        "poster_key": video.poster_key,
        "duration": video.duration,
        "width": video.width,
        "height": video.height,
        "published_at": video.published_at.isoformat() if video.published_at else None,
        "counts": {
            "likes": video.likes_count,
            "favorites": video.favorites_count,
            "comments": video.comments_count,
            "views": video.views_count,
        },
        "failure_reason": video.failure_reason,
    }


def _is_public(base: dict) -> bool:
    return (
        base["status"] == VideoStatus.READY
        and base["moderation"] == Moderation.VISIBLE
        and not base["creator_suspended"]
    )


def video_cards(*, video_ids: Iterable, viewer=None) -> list[dict]:
    """Cards for ``video_ids`` in order; non-public ones only for their owner."""
    from activity.selectors import viewer_flags

    ids = _parse_ids(video_ids)
    if not ids:
        return []
    videos = {video.id: video for video in Video.objects.filter(id__in=ids).select_related("owner")}
    bases = [card_base(videos[video_id]) for video_id in ids if video_id in videos]
    viewer_id = viewer.pk if viewer is not None and viewer.is_authenticated else None
    bases = [base for base in bases if _is_public(base) or base["owner_id"] == viewer_id]
    flags = viewer_flags(viewer=viewer, video_owner_ids={base["id"]: base["owner_id"] for base in bases})
    cards = []
    for base in bases:
        card = {key: value for key, value in base.items() if key not in {"owner_id", "creator_suspended"}}
        card["hls_url"] = playback_url(card.pop("hls_master_key"))
        card["poster_url"] = playback_url(card.pop("poster_key"))
        card["viewer"] = flags.get(base["id"]) if viewer_id is not None else None
        if base["owner_id"] != viewer_id:
            card.pop("failure_reason")
        cards.append(card)
    return cards
