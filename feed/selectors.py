"""SQL reads behind feeds (served from a replica by the router): rebuild sources, the
pull-model feed used past the Redis cap and when Redis is down, trending scores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connections
from django.db.models import Q
from django.utils import timezone

from activity.models import Follow
from feed.store import Entry
from tiktok import db_router
from videos.models import Video

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def score_of(published_at: datetime) -> int:
    """Feed score: publish time in whole epoch microseconds (exact in a Redis double).
    Integer arithmetic: through a float timestamp a time could land a microsecond off."""
    return (published_at - EPOCH) // MICROSECOND


def time_of(score: int) -> datetime:
    return EPOCH + score * MICROSECOND


def public_videos():
    return Video.objects.public()


def followee_ids(*, user_id: int) -> list[int]:
    return list(Follow.objects.filter(follower_id=user_id).values_list("followee_id", flat=True))


def big_creator_ids(*, creator_ids: list[int]) -> list[int]:
    from accounts.models import User

    if not creator_ids:
        return []
    return list(
        User.objects.filter(id__in=creator_ids, followers_count__gte=settings.BIG_CREATOR_FOLLOWERS).values_list(
            "id", flat=True
        )
    )


def entries_for(queryset, *, limit: int) -> list[Entry]:
    """The newest ``limit`` videos of ``queryset`` in the feed order: (publish time, feed id)
    descending (index ``video_published_feed``)."""
    rows = queryset.order_by("-published_at", "-feed_id").values_list("feed_id", "id", "published_at")[:limit]
    return [
        Entry(score=score_of(published_at), feed_id=feed_id, video_id=str(video_id))
        for feed_id, video_id, published_at in rows
    ]


def feed_source(*, user_id: int) -> tuple[list[Entry], list[int], int]:
    """What a rebuilt feed holds: (entries of small creators, big creator ids, followee count)."""
    followees = followee_ids(user_id=user_id)
    big = big_creator_ids(creator_ids=followees)
    small = [creator_id for creator_id in followees if creator_id not in set(big)]
    entries = entries_for(public_videos().filter(owner_id__in=small), limit=settings.FEED_MAX_ITEMS) if small else []
    return entries, big, len(followees)


def creator_recent_entries(*, creator_id: int, limit: int) -> list[Entry]:
    return entries_for(public_videos().filter(owner_id=creator_id), limit=limit)


def creator_feed_ids_since(*, creator_id: int, since_score: int | None) -> list[int]:
    """Feed ids of a creator's videos published at or after a score (what a feed could hold)."""
    videos = Video.objects.filter(owner_id=creator_id, published_at__isnull=False)
    if since_score is not None:
        videos = videos.filter(published_at__gte=time_of(since_score))
    return list(videos.values_list("feed_id", flat=True))


def pull_feed_entries(*, user_id: int, before: Entry | None, limit: int) -> list[Entry]:
    """The feed computed on demand: followees' public videos older than ``before``.

    This is the pull model: used past the Redis cap, when Redis is down, and (in bench
    settings) as the baseline the precomputed feed is measured against.
    """
    videos = public_videos().filter(owner__in=Follow.objects.filter(follower_id=user_id).values("followee_id"))
    if before is not None:
        when = time_of(before.score)
        # The first condition lets the index scan start at the cursor (the OR cannot).
        videos = videos.filter(published_at__lte=when).filter(
            Q(published_at__lt=when) | Q(published_at=when, feed_id__lt=before.feed_id)
        )
    return entries_for(videos, limit=limit)


def follower_id_batches(*, creator_id: int, batch_size: int):
    """Follower ids of a creator in keyset batches (ascending id), read from a replica."""
    last = 0
    while True:
        batch = list(
            Follow.objects.filter(followee_id=creator_id, follower_id__gt=last)
            .order_by("follower_id")
            .values_list("follower_id", flat=True)[:batch_size]
        )
        if not batch:
            return
        yield batch
        last = batch[-1]


def active_follower_id_batches(*, creator_id: int, batch_size: int):
    """Like ``follower_id_batches`` but skipping users not seen for ``FEED_INACTIVE_DAYS``."""
    cutoff = timezone.now() - timedelta(days=settings.FEED_INACTIVE_DAYS)
    last = 0
    while True:
        batch = list(
            Follow.objects.filter(followee_id=creator_id, follower_id__gt=last, follower__last_seen_at__gte=cutoff)
            .order_by("follower_id")
            .values_list("follower_id", flat=True)[:batch_size]
        )
        if not batch:
            return
        yield batch
        last = batch[-1]


def recently_active_user_ids(*, since: datetime) -> list[int]:
    from accounts.models import User

    return list(User.objects.filter(last_seen_at__gte=since, suspended_at__isnull=True).values_list("id", flat=True))


TRENDING_SQL = """
WITH recent AS (
    SELECT v.id, v.duration, v.published_at,
           EXTRACT(EPOCH FROM (%(now)s - v.published_at)) / 3600.0 AS age_hours
    FROM videos_video v
    JOIN accounts_user u ON u.id = v.owner_id
    WHERE v.status = 'ready' AND v.moderation = 'visible' AND u.suspended_at IS NULL
      AND v.published_at >= %(since)s
),
likes AS (
    SELECT l.video_id, COUNT(*) AS n FROM activity_like l JOIN recent r ON r.id = l.video_id
    WHERE l.created_at >= %(since)s GROUP BY l.video_id
),
comments AS (
    SELECT c.video_id, COUNT(*) AS n FROM activity_comment c JOIN recent r ON r.id = c.video_id
    WHERE c.created_at >= %(since)s AND c.state = 'visible' GROUP BY c.video_id
),
views AS (
    SELECT w.video_id, COUNT(*) AS n,
           AVG(LEAST(w.watched_ms / GREATEST(r.duration * 1000.0, 1.0), 1.0)) AS completion
    FROM activity_view w JOIN recent r ON r.id = w.video_id
    WHERE w.created_at >= %(since)s GROUP BY w.video_id
)
SELECT r.id, COALESCE(l.n, 0), COALESCE(c.n, 0), COALESCE(w.n, 0), COALESCE(w.completion, 0), r.age_hours
FROM recent r
LEFT JOIN likes l ON l.video_id = r.id
LEFT JOIN comments c ON c.video_id = r.id
LEFT JOIN views w ON w.video_id = r.id
"""


def trending_candidates(*, window_hours: int) -> list[tuple[str, int, int, int, float, float]]:
    """(video id, likes, comments, views, completion, age hours) for recent public videos."""
    now = timezone.now()
    alias = db_router.choose_read_alias()
    with connections[alias].cursor() as cursor:
        cursor.execute(TRENDING_SQL, {"now": now, "since": now - timedelta(hours=window_hours)})
        return [
            (str(row[0]), int(row[1]), int(row[2]), int(row[3]), float(row[4]), max(float(row[5]), 0.0))
            for row in cursor.fetchall()
        ]
