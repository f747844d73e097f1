"""For You's candidate pools kept in Redis by Celery: each hashtag's best recent videos,
and each video's co-engagement neighbours (viewers who liked or finished it also did those).

A viewer's interests are hashtags; the newest videos of a tag are a poor sample of what
its fans like next (a popular tag has hundreds of videos a day). A pool holds a tag's
``TAG_POOL_SIZE`` best public videos of the last ``TAG_POOL_DAYS`` days by *quality*:
likes (plus one, so a new video is not nothing) decayed by age,
``exp(-age / FRESHNESS_HOURS)``. ``tag_pools_recompute`` (beat, every
``FOR_YOU_TAG_POOLS_INTERVAL_SECONDS``) refreshes the pools of the ``TAG_POOLS_MAX`` tags
with the most recent videos; a pool missing from Redis (evicted, or a tag outside that
set) is computed on read and stored, so a new interest finds its videos at once.
Quality counts likes, not likes over views: the like rate ranked worse on the offline
evaluation (hit-rate@50 0.60 against 0.70, hashtag source alone).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connections
from django.db.models import Count, F, FloatField, Window
from django.db.models.functions import Cast, Extract, Ln, RowNumber
from django.utils import timezone

from discovery import store
from tiktok import db_router
from videos.models import VideoHashtag, public_video_q

TAG_POOL_SIZE = 100  # videos per hashtag pool
TAG_POOL_DAYS = 7  # a video older than this has lost ~90% of its quality to freshness
TAG_POOLS_MAX = 5_000  # hashtags with a pool kept by beat (bounded memory: ~5 MB per 1,000)
FRESHNESS_HOURS = 72.0  # quality decays by e every this many hours of age


def quality(*, likes: int, published_at: datetime, now: datetime) -> float:
    """How good a pick a video is now: its likes (plus one) decayed by its age."""
    age_hours = max((now - published_at).total_seconds() / 3600, 0.0)
    return (likes + 1) * math.exp(-age_hours / FRESHNESS_HOURS)


def quality_order(prefix: str = ""):
    """An SQL expression ordering videos as ``quality`` does, at any ``now``:
    ``ln(likes + 1) + published_epoch / (3600 * FRESHNESS_HOURS)`` (the log of quality
    plus a constant), so it needs no clock and stays one ordering over time."""
    likes = Cast(F(f"{prefix}likes_count"), FloatField()) + 1.0
    published = Cast(Extract(f"{prefix}published_at", "epoch"), FloatField())
    return Ln(likes) + published / (3600.0 * FRESHNESS_HOURS)


def _pools_sql(tag_ids: Sequence[int]) -> dict[int, dict[str, float]]:
    """Each tag's pool computed now in SQL: tag id -> {video id: quality}."""
    now = timezone.now()
    ranked = (
        VideoHashtag.objects.filter(hashtag_id__in=list(tag_ids), video__published_at__gte=_since(now))
        .filter(public_video_q("video__"))
        .annotate(
            position=Window(RowNumber(), partition_by=[F("hashtag_id")], order_by=quality_order("video__").desc())
        )
        .filter(position__lte=TAG_POOL_SIZE)
        .values_list("hashtag_id", "video_id", "video__likes_count", "video__published_at")
    )
    pools: dict[int, dict[str, float]] = {tag_id: {} for tag_id in tag_ids}
    for tag_id, video_id, likes, published_at in ranked:
        pools[tag_id][str(video_id)] = quality(likes=likes, published_at=published_at, now=now)
    return pools


def _keep_seconds() -> int:
    """A pool outlives a few missed beat ticks, then expires (a tag that went quiet)."""
    return int(settings.FOR_YOU_TAG_POOLS_INTERVAL_SECONDS * 4)


def _since(now: datetime) -> datetime:
    return now - timedelta(days=TAG_POOL_DAYS)


def tag_pools_recompute() -> int:
    """Refresh the pools of the tags with the most recent public videos; returns how many."""
    busiest = (
        VideoHashtag.objects.filter(video__published_at__gte=_since(timezone.now()))
        .filter(public_video_q("video__"))
        .values("hashtag_id")
        .annotate(videos=Count("id"))
        .order_by("-videos", "hashtag_id")
        .values_list("hashtag_id", flat=True)[:TAG_POOLS_MAX]
    )
    pools = _pools_sql(list(busiest))
    store.publish_tag_pools(pools=pools, keep_seconds=_keep_seconds())
    return len(pools)


def tag_pools(*, tag_ids: Iterable[int], use_redis: bool = True) -> dict[int, dict[str, float]]:
    """The pools of ``tag_ids`` (tag id -> {video id: quality}); missing ones computed and stored."""
    tag_ids = list(tag_ids)
    if not use_redis:
        return _pools_sql(tag_ids)
    pools = store.tag_pools(tag_ids=tag_ids)
    missing = [tag_id for tag_id in tag_ids if tag_id not in pools]
    if missing:
        computed = _pools_sql(missing)
        store.publish_tag_pools(pools=computed, keep_seconds=_keep_seconds())
        pools |= computed
    return pools


# --- Co-engagement neighbours ---------------------------------------------------------------


CO_ENGAGEMENT_SQL = """
WITH events AS (
    SELECT user_id, video_id, MAX(at) AS at FROM (
        SELECT user_id, video_id, created_at AS at FROM activity_like WHERE created_at >= %(since)s
        UNION ALL
        SELECT user_id, video_id, created_at FROM activity_favorite WHERE created_at >= %(since)s
        UNION ALL
        SELECT w.viewer_id, w.video_id, w.created_at FROM activity_view w JOIN videos_video v ON v.id = w.video_id
        WHERE w.created_at >= %(since)s AND v.duration > 0 AND w.watched_ms >= %(ratio)s * v.duration * 1000
    ) engaged
    WHERE NOT EXISTS (
        SELECT 1 FROM unnest(%(excluded_users)s::bigint[], %(excluded_videos)s::uuid[]) AS x(user_id, video_id)
        WHERE x.user_id = engaged.user_id AND x.video_id = engaged.video_id
    )
    GROUP BY user_id, video_id ORDER BY at DESC LIMIT %(max_events)s
),
capped AS (
    SELECT user_id, video_id FROM (
        SELECT user_id, video_id, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY at DESC) AS n FROM events
    ) numbered WHERE n <= %(per_user)s
),
pairs AS (
    SELECT a.video_id AS video, b.video_id AS neighbour, COUNT(*) AS together
    FROM capped a JOIN capped b ON a.user_id = b.user_id AND a.video_id <> b.video_id
    GROUP BY 1, 2
)
SELECT video::text, neighbour::text, together FROM (
    SELECT video, neighbour, together,
           ROW_NUMBER() OVER (PARTITION BY video ORDER BY together DESC, neighbour) AS n
    FROM pairs
) ranked WHERE n <= %(neighbours)s ORDER BY video, n
"""


def co_engagement_compute(*, excluded: Sequence[tuple[int, str]] = ()) -> dict[str, list[str]]:
    """Viewers who liked, favorited or finished A also did B: each video's top neighbours
    from recent events, computed in Postgres (bounded: the newest ``FOR_YOU_CO_MAX_EVENTS``
    events, ``FOR_YOU_CO_PER_USER`` per user) for the ``FOR_YOU_CO_MAX_VIDEOS`` most
    co-engaged videos. ``excluded``: (user id, video id) engagements left out (the ranker's
    fit predicts them, so they may not be evidence)."""
    params = {
        "since": timezone.now() - timedelta(days=settings.FOR_YOU_CO_WINDOW_DAYS),
        "ratio": settings.FOR_YOU_COMPLETION_RATIO,
        "max_events": settings.FOR_YOU_CO_MAX_EVENTS,
        "per_user": settings.FOR_YOU_CO_PER_USER,
        "neighbours": settings.FOR_YOU_CO_NEIGHBOURS,
        "excluded_users": [user_id for user_id, _ in excluded],
        "excluded_videos": [video_id for _, video_id in excluded],
    }
    neighbours: dict[str, list[str]] = defaultdict(list)
    strength: Counter[str] = Counter()
    with connections[db_router.choose_read_alias()].cursor() as cursor:
        cursor.execute(CO_ENGAGEMENT_SQL, params)
        for video_id, neighbour_id, together in cursor.fetchall():
            neighbours[video_id].append(neighbour_id)
            strength[video_id] += together
    return {video_id: neighbours[video_id] for video_id, _ in strength.most_common(settings.FOR_YOU_CO_MAX_VIDEOS)}


def co_engagement_recompute() -> int:
    """Recompute the co-engagement neighbours and store them; returns how many videos have some."""
    kept = co_engagement_compute()
    store.publish_co_engagement(neighbours=kept, keep_seconds=int(settings.FOR_YOU_CO_INTERVAL_SECONDS * 4))
    return len(kept)
