"""For You: candidates, scoring, reasons, diversity, the precomputed list, its pages.

One user's list is built from their signals (likes, favorites, completed views, skips:
a view under ``FOR_YOU_SKIP_MS``) read from Postgres, and candidates from five sources:
followed creators, hashtags and creators of what they engaged with, co-engagement
neighbours (``co_engagement_recompute``, by beat), trending and a share of fresh videos
with few views (exploration, so new creators get seen). Each candidate's score is the
sum of what each source gives it (plus freshness and a popularity prior: the log of its
likes), and every source that contributed leaves a reason.
The ranked list is diversified (at most ``FOR_YOU_PER_CREATOR`` per creator in any
``FOR_YOU_DIVERSITY_WINDOW`` consecutive cards) and stored per user by
``feed.for_you_store``. Pages read it from Redis; with Redis down the same ranking is
computed in SQL (without co-engagement, with SQL popularity for trending), marked degraded.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connections
from django.utils import timezone

from activity import relations
from activity.models import Favorite, Follow, Like, View
from activity.selectors import video_cards
from feed import for_you_store, services, store, trending_store
from feed.pages import FeedPage
from feed.store import REDIS_ERRORS
from tiktok import cursors, db_router
from tiktok.cursors import InvalidCursorError
from videos.models import Video, VideoHashtag, public_video_q

logger = logging.getLogger(__name__)

SOURCE = "for_you"
# What one engagement says about a video (a skip counts against its tags and creator).
LIKE_WEIGHT, FAVORITE_WEIGHT, COMPLETION_WEIGHT, SKIP_WEIGHT = 3.0, 2.0, 2.0, -1.0
TOP_HASHTAGS, TOP_CREATORS = 10, 10
SIGNAL_LIKES, SIGNAL_VIEWS = 200, 500
CANDIDATES_PER_SOURCE = 200
POPULARITY_WEIGHT = 1.0  # at most this much for the most liked candidate (log of likes)


@dataclass
class Candidate:
    video_id: str
    owner_id: int = 0
    username: str = ""
    age_hours: float = 0.0
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)
    explore: bool = False

    def add(self, points: float, reason: str) -> None:
        self.score += points
        if reason not in self.reasons:
            self.reasons.append(reason)


@dataclass
class Signals:
    weights: dict[str, float]  # video id -> how much the user liked it (negative: skipped)
    seen: set[str]  # videos liked, favorited or viewed: not recommended again
    followees: list[int]


def _signals(*, user_id: int) -> Signals:
    weights: dict[str, float] = defaultdict(float)
    seen: set[str] = set()
    for video_id in (
        Like.objects.filter(user_id=user_id).order_by("-created_at").values_list("video_id", flat=True)[:SIGNAL_LIKES]
    ):
        weights[str(video_id)] += LIKE_WEIGHT
    for video_id in (
        Favorite.objects.filter(user_id=user_id)
        .order_by("-created_at")
        .values_list("video_id", flat=True)[:SIGNAL_LIKES]
    ):
        weights[str(video_id)] += FAVORITE_WEIGHT
    seen |= set(weights)
    views = View.objects.filter(viewer_id=user_id).order_by("-created_at")
    for video_id, watched_ms, duration in views.values_list("video_id", "watched_ms", "video__duration")[:SIGNAL_VIEWS]:
        key = str(video_id)
        seen.add(key)
        if duration and watched_ms >= settings.FOR_YOU_COMPLETION_RATIO * duration * 1000:
            weights[key] += COMPLETION_WEIGHT
        elif watched_ms < settings.FOR_YOU_SKIP_MS and weights.get(key, 0) <= 0:
            weights[key] += SKIP_WEIGHT
    followees = list(Follow.objects.filter(follower_id=user_id).values_list("followee_id", flat=True))
    return Signals(weights=dict(weights), seen=seen, followees=followees)


def _affinities(signals: Signals) -> tuple[dict[int, tuple[str, float]], dict[int, float]]:
    """(hashtag id -> (name, weight)) and (creator id -> weight), the positive top ones."""
    if not signals.weights:
        return {}, {}
    tags: dict[int, list] = {}
    for video_id, tag_id, name in VideoHashtag.objects.filter(video_id__in=list(signals.weights)).values_list(
        "video_id", "hashtag_id", "hashtag__name"
    ):
        tags.setdefault(tag_id, [name, 0.0])[1] += signals.weights[str(video_id)]
    creators: dict[int, float] = defaultdict(float)
    for video_id, owner_id in Video.objects.filter(id__in=list(signals.weights)).values_list("id", "owner_id"):
        creators[owner_id] += signals.weights[str(video_id)]
    top_tags = sorted(((t, (n, w)) for t, (n, w) in tags.items() if w > 0), key=lambda item: -item[1][1])
    top_creators = sorted(((c, w) for c, w in creators.items() if w > 0), key=lambda item: -item[1])
    return dict(top_tags[:TOP_HASHTAGS]), dict(top_creators[:TOP_CREATORS])


def _recent_since():
    return timezone.now() - timedelta(days=settings.FOR_YOU_CANDIDATE_DAYS)


def _recent_public():
    return Video.objects.public().filter(published_at__gte=_recent_since())


def _trending_ids(*, use_redis: bool) -> list[str]:
    if use_redis:
        version = trending_store.current_trending_version() or services.trending_recompute()
        rows, _ = trending_store.trending_page(version=version, offset=0, count=CANDIDATES_PER_SOURCE)
        return [row[0] for row in rows]
    # Redis down: recent videos by likes stand in for the trending ranking.
    ordered = _recent_public().order_by("-likes_count", "-views_count", "-published_at")
    return [str(video_id) for video_id in ordered.values_list("id", flat=True)[:CANDIDATES_PER_SOURCE]]


def _exploration_ids(*, user_id: int) -> list[str]:
    """Fresh videos with few views, a sample that changes every hour (new creators get seen)."""
    since = timezone.now() - timedelta(hours=settings.FOR_YOU_EXPLORE_HOURS)
    fresh = Video.objects.public().filter(published_at__gte=since, views_count__lt=settings.FOR_YOU_EXPLORE_MAX_VIEWS)
    ids = [str(video_id) for video_id in fresh.order_by("-published_at").values_list("id", flat=True)[:200]]
    sampler = random.Random(f"{user_id}:{int(time.time() // 3600)}")  # noqa: S311 - not security
    return sampler.sample(ids, min(len(ids), settings.FOR_YOU_EXPLORE_SAMPLE))


def rank_for_user(*, user_id: int, use_redis: bool = True) -> list[Candidate]:
    """The user's For You list, best first, diversified (at most ``FOR_YOU_MAX_ITEMS``)."""
    signals = _signals(user_id=user_id)
    tags, creators = _affinities(signals)
    candidates: dict[str, Candidate] = {}

    def candidate(video_id) -> Candidate:
        key = str(video_id)
        return candidates.setdefault(key, Candidate(video_id=key))

    if signals.followees:
        followed = _recent_public().filter(owner_id__in=signals.followees).order_by("-published_at")
        for video_id, username in followed.values_list("id", "owner__username")[:CANDIDATES_PER_SOURCE]:
            candidate(video_id).add(1.0, f"you follow @{username}")
    if tags:
        top = max(weight for _, weight in tags.values())
        total = sum(weight for _, weight in tags.values())
        for tag_id, (name, weight) in tags.items():
            # Each tag's share of the budget follows its weight: a strong interest is not
            # crowded out by the newest videos of weak ones.
            links = (
                VideoHashtag.objects.filter(hashtag_id=tag_id, video__published_at__gte=_recent_since())
                .filter(public_video_q("video__"))
                .order_by("-video__published_at")
                .values_list("video_id", flat=True)[: math.ceil(CANDIDATES_PER_SOURCE * 2 * weight / total)]
            )
            for video_id in links:
                candidate(video_id).add(2.0 * weight / top, f"liked #{name} videos")
    if creators:
        top = max(creators.values())
        liked_creators = _recent_public().filter(owner_id__in=list(creators)).order_by("-published_at")
        for video_id, owner_id, username in liked_creators.values_list("id", "owner_id", "owner__username")[
            :CANDIDATES_PER_SOURCE
        ]:
            candidate(video_id).add(1.0 * creators[owner_id] / top, f"liked videos by @{username}")
    if use_redis:
        engaged = [video_id for video_id, weight in sorted(signals.weights.items(), key=lambda i: -i[1]) if weight > 0]
        together: Counter[str] = Counter()
        for neighbours in for_you_store.co_engaged(video_ids=engaged[:50]).values():
            together.update(neighbours[: settings.FOR_YOU_CO_NEIGHBOURS])
        for video_id, count in together.most_common(CANDIDATES_PER_SOURCE):
            candidate(video_id).add(1.5 * min(count / 2, 1.0), "viewers like you liked or finished this")
    trending = _trending_ids(use_redis=use_redis)
    for rank, video_id in enumerate(trending):
        candidate(video_id).add(0.2 + 0.8 * (1 - rank / len(trending)), "trending")
    for video_id in _exploration_ids(user_id=user_id):
        found = candidate(video_id)
        found.add(0.3, "new: few views yet")
        found.explore = True
    return _finish(user_id=user_id, candidates=candidates, signals=signals)


def _finish(*, user_id: int, candidates: dict[str, Candidate], signals: Signals) -> list[Candidate]:
    """Drop what may not or need not be shown, add recency, order, diversify."""
    for video_id in signals.seen:
        candidates.pop(video_id, None)
    now = timezone.now()
    kept: list[Candidate] = []
    rows = list(
        Video.objects.public()
        .filter(id__in=list(candidates))
        .exclude(owner_id__in=[user_id, *relations.hidden_user_ids(viewer_id=user_id)])
        .values_list("id", "owner_id", "owner__username", "published_at", "likes_count")
    )
    most_liked = math.log1p(max((row[4] for row in rows), default=0))
    for video_id, owner_id, username, published_at, likes in rows:
        found = candidates[str(video_id)]
        found.owner_id, found.username = owner_id, username
        found.age_hours = max((now - published_at).total_seconds() / 3600, 0.0)
        found.score += 0.5 * math.pow(0.5, found.age_hours / 24)  # fresher first, all else equal
        if most_liked:  # and more liked by everyone first: a candidate's own appeal, all-time
            found.score += POPULARITY_WEIGHT * math.log1p(likes) / most_liked
        kept.append(found)
    kept.sort(key=lambda item: (-item.score, item.video_id))
    return diversify(kept)


def diversify(ranked: list[Candidate]) -> list[Candidate]:
    """Keep the order as far as the rules allow: at most ``FOR_YOU_PER_CREATOR`` cards per
    creator in any ``FOR_YOU_DIVERSITY_WINDOW`` consecutive ones, and one slot in each
    window for exploration. Candidates that cannot be placed (one creator left) are dropped."""
    window, per_creator = settings.FOR_YOU_DIVERSITY_WINDOW, settings.FOR_YOU_PER_CREATOR
    explore_slot = window - 3
    pending = list(ranked)
    placed: list[Candidate] = []
    while pending and len(placed) < settings.FOR_YOU_MAX_ITEMS:
        recent = Counter(item.owner_id for item in placed[-(window - 1) :])
        eligible = [index for index, item in enumerate(pending) if recent[item.owner_id] < per_creator]
        if not eligible:
            break
        choice = eligible[0]
        if len(placed) % window == explore_slot and not any(item.explore for item in placed[-explore_slot:]):
            choice = next((index for index in eligible if pending[index].explore), choice)
        placed.append(pending.pop(choice))
    return placed


# --- Build (Celery) -----------------------------------------------------------------------


def for_you_rebuild(*, user_id: int) -> int:
    """Build one user's list from at least everything committed before now; returns its length."""
    with db_router.reading_everything_committed():
        ranked = rank_for_user(user_id=user_id)
    for_you_store.publish_list(
        user_id=user_id,
        ranked=[(item.video_id, item.score, item.reasons, item.owner_id) for item in ranked],
        keep_seconds=settings.FOR_YOU_LIST_SECONDS,
    )
    return len(ranked)


CO_ENGAGEMENT_SQL = """
WITH events AS (
    SELECT user_id, video_id, MAX(at) AS at FROM (
        SELECT user_id, video_id, created_at AS at FROM activity_like WHERE created_at >= %(since)s
        UNION ALL
        SELECT user_id, video_id, created_at FROM activity_favorite WHERE created_at >= %(since)s
        UNION ALL
        SELECT w.viewer_id, w.video_id, w.created_at FROM activity_view w JOIN videos_video v ON v.id = w.video_id
        WHERE w.created_at >= %(since)s AND v.duration > 0 AND w.watched_ms >= %(ratio)s * v.duration * 1000
    ) engaged GROUP BY user_id, video_id ORDER BY at DESC LIMIT %(max_events)s
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


def co_engagement_recompute() -> int:
    """Viewers who liked, favorited or finished A also did B: each video's top neighbours
    from recent events, computed in Postgres (bounded: the newest ``FOR_YOU_CO_MAX_EVENTS``
    events, ``FOR_YOU_CO_PER_USER`` per user) and stored for ``FOR_YOU_CO_MAX_VIDEOS`` videos."""
    params = {
        "since": timezone.now() - timedelta(days=settings.FOR_YOU_CO_WINDOW_DAYS),
        "ratio": settings.FOR_YOU_COMPLETION_RATIO,
        "max_events": settings.FOR_YOU_CO_MAX_EVENTS,
        "per_user": settings.FOR_YOU_CO_PER_USER,
        "neighbours": settings.FOR_YOU_CO_NEIGHBOURS,
    }
    neighbours: dict[str, list[str]] = defaultdict(list)
    strength: Counter[str] = Counter()
    with connections[db_router.choose_read_alias()].cursor() as cursor:
        cursor.execute(CO_ENGAGEMENT_SQL, params)
        for video_id, neighbour_id, together in cursor.fetchall():
            neighbours[video_id].append(neighbour_id)
            strength[video_id] += together
    kept = {video_id: neighbours[video_id] for video_id, _ in strength.most_common(settings.FOR_YOU_CO_MAX_VIDEOS)}
    for_you_store.publish_co_engagement(neighbours=kept, keep_seconds=int(settings.FOR_YOU_CO_INTERVAL_SECONDS * 4))
    return len(kept)


def recently_engaged_user_ids(*, since) -> list[int]:
    """Users who liked, favorited or watched something since ``since`` (bounded)."""
    limit = settings.FOR_YOU_ENGAGED_USERS_PER_TICK
    users: set[int] = set()
    users |= set(Like.objects.filter(created_at__gte=since).values_list("user_id", flat=True).distinct()[:limit])
    users |= set(Favorite.objects.filter(created_at__gte=since).values_list("user_id", flat=True).distinct()[:limit])
    users |= set(View.objects.filter(created_at__gte=since).values_list("viewer_id", flat=True).distinct()[:limit])
    return sorted(users)[:limit]


# --- Read side --------------------------------------------------------------------------------


@dataclass
class ForYouCursor:
    version: str | None = None  # the Redis list being paged; None with ``degraded``
    offset: int = 0
    degraded: bool = False  # paging the SQL ranking (Redis was down)

    def encode(self) -> str:
        if self.degraded:
            return cursors.sign({"k": "yd", "o": self.offset})
        return cursors.sign({"k": "y", "v": self.version, "o": self.offset})

    @classmethod
    def decode(cls, raw: str | None) -> ForYouCursor:
        if not raw:
            return cls()
        data = cursors.unsign(raw)
        offset = cursors.bounded_int(data.get("o"), high=settings.FOR_YOU_MAX_ITEMS)
        if data.get("k") == "yd":
            return cls(offset=offset, degraded=True)
        version = data.get("v")
        if data.get("k") != "y" or not isinstance(version, str) or not version.isdigit() or len(version) > 20:
            raise InvalidCursorError()
        return cls(version=version, offset=offset)


def for_you_page(*, viewer, cursor: str | None, limit: int) -> FeedPage:
    parsed = ForYouCursor.decode(cursor)
    if not parsed.degraded:
        try:
            return _redis_page(viewer=viewer, cursor=parsed, limit=limit)
        except REDIS_ERRORS:
            logger.warning("Redis unavailable: ranking For You of user %s in SQL", viewer.pk)
            parsed = ForYouCursor(degraded=True)
    page = _sql_page(viewer=viewer, offset=parsed.offset, limit=limit)
    page.degraded = True
    return page


def _redis_page(*, viewer, cursor: ForYouCursor, limit: int) -> FeedPage:
    user_id = viewer.pk
    version = cursor.version or _current_or_built(user_id=user_id)
    if version is None:
        return _sql_page(viewer=viewer, offset=0, limit=limit)  # another reader is building it
    offset, items, restarted = cursor.offset, [], False
    hidden = relations.hidden_user_ids(viewer_id=user_id)  # a block or mute applies at once
    while len(items) < limit:
        rows, exists = for_you_store.list_page(user_id=user_id, version=version, offset=offset, count=limit * 2)
        if not exists and not restarted:
            # The version this client was paging expired: continue on the current one.
            restarted, offset = True, 0
            version = _current_or_built(user_id=user_id)
            if version is None:
                return _sql_page(viewer=viewer, offset=0, limit=limit)
            continue
        ids = [row[0] for row in rows if row[3] not in hidden]
        seen = store.seen_among(user_id=user_id, video_ids=ids)
        cards = {card["id"]: card for card in video_cards(video_ids=[i for i in ids if i not in seen], viewer=viewer)}
        for video_id, score, reasons, _ in rows:
            offset += 1
            card = cards.get(video_id)
            if card is not None:
                items.append(card | {"rank": {"score": score, "reasons": reasons}})
                if len(items) == limit:
                    break
        if len(rows) < limit * 2 and len(items) < limit:
            return FeedPage(items=items, next_cursor=None, source=SOURCE)
    return FeedPage(items=items, next_cursor=ForYouCursor(version=version, offset=offset).encode(), source=SOURCE)


def _current_or_built(*, user_id: int) -> str | None:
    """The current version, built now if missing (once: concurrent readers wait for it)."""
    version = for_you_store.current_version(user_id=user_id)
    if version is not None:
        return version
    if for_you_store.acquire_build_lock(user_id=user_id, seconds=settings.FEED_REBUILD_LOCK_SECONDS):
        try:
            for_you_rebuild(user_id=user_id)
        finally:
            for_you_store.release_build_lock(user_id=user_id)
        return for_you_store.current_version(user_id=user_id)
    deadline = time.monotonic() + settings.FEED_REBUILD_WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.05)
        version = for_you_store.current_version(user_id=user_id)
        if version is not None:
            return version
    return None


def _sql_page(*, viewer, offset: int, limit: int) -> FeedPage:
    """A page of the ranking computed now in SQL (no Redis at all)."""
    ranked = rank_for_user(user_id=viewer.pk, use_redis=False)
    items: list[dict] = []
    while len(items) < limit and offset < len(ranked):
        chunk = ranked[offset : offset + limit * 2]
        cards = {card["id"]: card for card in video_cards(video_ids=[item.video_id for item in chunk], viewer=viewer)}
        for item in chunk:
            offset += 1
            card = cards.get(item.video_id)
            if card is not None:
                items.append(card | {"rank": {"score": round(item.score, 4), "reasons": item.reasons}})
                if len(items) == limit:
                    break
    more = offset < len(ranked)
    next_cursor = ForYouCursor(offset=offset, degraded=True).encode() if more else None
    return FeedPage(items=items, next_cursor=next_cursor, source=SOURCE)
