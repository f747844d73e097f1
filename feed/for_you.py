"""For You: candidates, scoring, reasons, diversity, the precomputed list, its pages.

One user's list is built from their signals (likes, favorites, completed views, skips:
a view under ``FOR_YOU_SKIP_MS``) read from Postgres, and candidates from six sources:
the best recent videos of the hashtags they engaged with (``feed.for_you_pools``, kept by
beat), of the creators they follow and of the creators they engaged with, co-engagement
neighbours (``feed.for_you_pools``, by beat), trending and a share of fresh videos
with few views (exploration, so new creators get seen). Each source has a share of the
score (``SHARES``) that it spreads over its candidates by their evidence (the viewer's
interest in a tag or creator x the video's quality: likes decayed by age; co-engagement
counts; trending scores), so a candidate's score sums what each source expects of it,
and every source that contributed leaves a reason.
The ranked list is diversified (at most ``FOR_YOU_PER_CREATOR`` per creator in any
``FOR_YOU_DIVERSITY_WINDOW`` consecutive cards) and stored per user by
``feed.for_you_store``. Pages read it from Redis; with Redis down the same ranking is
computed in SQL (hashtag pools computed on the spot, no co-engagement, recent videos by
quality for trending), marked degraded.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from activity import relations
from activity.models import Favorite, Follow, Like, View
from activity.selectors import video_cards
from feed import for_you_pools, for_you_store, services, store, trending_store
from feed.pages import FeedPage
from feed.store import REDIS_ERRORS
from tiktok import cursors, db_router
from tiktok.cursors import InvalidCursorError
from videos.models import Video, VideoHashtag
from videos.selectors import feed_ids_by_video_id

logger = logging.getLogger(__name__)

SOURCE = "for_you"
# What one engagement says about a video (a skip counts against its tags and creator).
LIKE_WEIGHT, FAVORITE_WEIGHT, COMPLETION_WEIGHT, SKIP_WEIGHT = 3.0, 2.0, 2.0, -1.0
TOP_HASHTAGS, TOP_CREATORS = 10, 10
SIGNAL_LIKES, SIGNAL_VIEWS = 200, 500
CANDIDATES_PER_SOURCE = 200
CANDIDATES_PER_CREATOR = 50  # of each creator the viewer engaged with
# Below one: a viewer's weaker interests get more than their share of the hashtag source
# (measured: 0.5 beat 1 and 2 on the offline evaluation).
TAG_INTEREST_POWER = 0.5
CO_ENGAGED_SEEDS = 50  # the viewer's strongest engagements whose neighbours are candidates
# Each source's share of a score (points out of 100): how much of a viewer's next likes it
# is expected to explain. A source spreads its share over its candidates by their evidence.
SHARES = {
    "hashtags": 60.0,
    "followed": 20.0,
    "creators": 10.0,
    "co_engagement": 10.0,
    "trending": 10.0,
    "exploration": 3.0,
}


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


def _trending(*, use_redis: bool) -> dict[str, float]:
    """Trending videos -> their trending score (Redis down: recent videos by quality)."""
    if use_redis:
        version = trending_store.current_trending_version() or services.trending_recompute()
        rows, _ = trending_store.trending_page(version=version, offset=0, count=CANDIDATES_PER_SOURCE)
        return {video_id: score for video_id, score, _ in rows}
    return {video_id: quality for video_id, (quality, _) in _best_recent(_recent_public()).items()}


def _best_recent(videos) -> dict[str, tuple[float, str]]:
    """The best ``CANDIDATES_PER_SOURCE`` of ``videos`` by quality (likes decayed by age):
    video id -> (quality, creator's username)."""
    now = timezone.now()
    best = videos.order_by(for_you_pools.quality_order().desc(), "-id").values_list(
        "id", "likes_count", "published_at", "owner__username"
    )
    return {
        str(video_id): (for_you_pools.quality(likes=likes, published_at=published_at, now=now), username)
        for video_id, likes, published_at, username in best[:CANDIDATES_PER_SOURCE]
    }


def _best_recent_by_creator(creator_ids: list[int]) -> dict[int, dict[str, tuple[float, str]]]:
    """``_best_recent`` per creator in one query: creator id -> the best
    ``CANDIDATES_PER_CREATOR`` of their recent videos -> (quality, username)."""
    now = timezone.now()
    ranked = (
        _recent_public()
        .filter(owner_id__in=creator_ids)
        .annotate(
            position=Window(RowNumber(), partition_by=[F("owner_id")], order_by=for_you_pools.quality_order().desc())
        )
        .filter(position__lte=CANDIDATES_PER_CREATOR)
        .values_list("owner_id", "id", "likes_count", "published_at", "owner__username")
    )
    by_creator: dict[int, dict[str, tuple[float, str]]] = defaultdict(dict)
    for owner_id, video_id, likes, published_at, username in ranked:
        quality = for_you_pools.quality(likes=likes, published_at=published_at, now=now)
        by_creator[owner_id][str(video_id)] = (quality, username)
    return by_creator


def _exploration_ids(*, user_id: int) -> list[str]:
    """Fresh videos with few views, a sample that changes every hour (new creators get seen)."""
    since = timezone.now() - timedelta(hours=settings.FOR_YOU_EXPLORE_HOURS)
    fresh = Video.objects.public().filter(published_at__gte=since, views_count__lt=settings.FOR_YOU_EXPLORE_MAX_VIEWS)
    ids = [str(video_id) for video_id in fresh.order_by("-published_at").values_list("id", flat=True)[:200]]
    sampler = random.Random(f"{user_id}:{int(time.time() // 3600)}")  # noqa: S311 - not security
    return sampler.sample(ids, min(len(ids), settings.FOR_YOU_EXPLORE_SAMPLE))


def _shares(weights: dict, *, power: float = 1.0) -> dict:
    """Weights scaled to sum to one (after ``power``: below one, weak interests count more)."""
    total = sum(weight**power for weight in weights.values())
    return {key: weight**power / total for key, weight in weights.items()} if total else {}


class Candidates(dict[str, Candidate]):
    """Candidates by video id. Each source spreads its share of the score over its videos
    in proportion to their evidence (quality, co-engagement count, trending score), so the
    score estimates how likely the viewer is to want each video, whatever its source."""

    def spread(self, share: float, evidence: dict[str, float], reason) -> None:
        for video_id, part in _shares(evidence).items():
            self.setdefault(video_id, Candidate(video_id=video_id)).add(share * part, reason(video_id))


def rank_for_user(*, user_id: int, use_redis: bool = True) -> list[Candidate]:
    """The user's For You list, best first, diversified (at most ``FOR_YOU_MAX_ITEMS``)."""
    signals = _signals(user_id=user_id)
    tags, creators = _affinities(signals)
    candidates = Candidates()
    if tags:
        pools = for_you_pools.tag_pools(tag_ids=list(tags), use_redis=use_redis)
        interests = _shares({tag_id: weight for tag_id, (_, weight) in tags.items()}, power=TAG_INTEREST_POWER)
        for tag_id, interest in interests.items():
            reason = f"liked #{tags[tag_id][0]} videos"
            candidates.spread(SHARES["hashtags"] * interest, pools.get(tag_id, {}), lambda _, r=reason: r)
    if signals.followees:
        followed = _best_recent(_recent_public().filter(owner_id__in=signals.followees))
        candidates.spread(
            SHARES["followed"],
            {video_id: quality for video_id, (quality, _) in followed.items()},
            lambda video_id: f"you follow @{followed[video_id][1]}",
        )
    by_creator = _best_recent_by_creator(list(creators))
    for creator_id, interest in _shares(creators).items():
        # Per creator: a strong affinity is not crowded out by a prolific weak one.
        videos = by_creator.get(creator_id, {})
        candidates.spread(
            SHARES["creators"] * interest,
            {video_id: quality for video_id, (quality, _) in videos.items()},
            lambda video_id, v=videos: f"liked videos by @{v[video_id][1]}",
        )
    if use_redis:
        engaged = [video_id for video_id, weight in sorted(signals.weights.items(), key=lambda i: -i[1]) if weight > 0]
        together: Counter[str] = Counter()
        for neighbours in for_you_store.co_engaged(video_ids=engaged[:CO_ENGAGED_SEEDS]).values():
            together.update(neighbours[: settings.FOR_YOU_CO_NEIGHBOURS])
        candidates.spread(
            SHARES["co_engagement"],
            dict(together.most_common(CANDIDATES_PER_SOURCE)),
            lambda _: "viewers like you liked or finished this",
        )
    candidates.spread(SHARES["trending"], _trending(use_redis=use_redis), lambda _: "trending")
    explore = _exploration_ids(user_id=user_id)
    candidates.spread(SHARES["exploration"], dict.fromkeys(explore, 1.0), lambda _: "new: few views yet")
    for video_id in explore:
        candidates[video_id].explore = True
    return _finish(user_id=user_id, candidates=candidates, signals=signals)


def _finish(*, user_id: int, candidates: dict[str, Candidate], signals: Signals) -> list[Candidate]:
    """Drop what may not or need not be shown (seen, own, blocked, muted, no longer public), order, diversify."""
    for video_id in signals.seen:
        candidates.pop(video_id, None)
    now = timezone.now()
    kept: list[Candidate] = []
    rows = (
        Video.objects.public()
        .filter(id__in=list(candidates))
        .exclude(owner_id__in=[user_id, *relations.hidden_user_ids(viewer_id=user_id)])
        .values_list("id", "owner_id", "owner__username", "published_at")
    )
    for video_id, owner_id, username, published_at in rows:
        found = candidates[str(video_id)]
        found.owner_id, found.username = owner_id, username
        found.age_hours = max((now - published_at).total_seconds() / 3600, 0.0)
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
        # The seen set holds feed ids (``feed.store``): one lookup maps this page's ids.
        feed_ids = feed_ids_by_video_id(ids)
        seen_feed_ids = store.seen_among(user_id=user_id, feed_ids=list(feed_ids.values()))
        seen = {video_id for video_id, feed_id in feed_ids.items() if feed_id in seen_feed_ids}
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
