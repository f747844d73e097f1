"""Public videos whose hashtags are stored (discovery and For You tests)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from tests.factories import VideoFactory
from videos.hashtags import hashtag_counts_recount, video_hashtags_set
from videos.models import Video


def tagged_video(owner, caption: str, *, age_minutes: float = 0, **fields) -> Video:
    """A published video (metadata only) with its caption's hashtags stored."""
    fields.setdefault("published_at", timezone.now() - timedelta(minutes=age_minutes))
    video = VideoFactory(owner=owner, caption=caption, **fields)
    video_hashtags_set(video=video)
    return video


def recount() -> None:
    hashtag_counts_recount()
