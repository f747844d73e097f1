"""For You's ranking: candidates, their features, scores, reasons, diversity.

One user's list is built from their signals (likes, favorites, completed views, skips:
a view under ``FOR_YOU_SKIP_MS``) read from Postgres, and candidates from six sources:
the best recent videos of the hashtags they engaged with (``discovery.pools``, kept by
beat), of the creators they follow and of the creators they engaged with, co-engagement
neighbours (``discovery.pools``, by beat), trending and a share of fresh videos
with few views (exploration, so new creators get seen). Each source has a share of points
(``SHARES``) that it spreads over its candidates by their evidence (the viewer's interest
in a tag or creator x the video's quality: likes decayed by age; co-engagement counts;
trending scores). Those points and what else is known of the candidate (its match with
the viewer's hashtags and creators, likes, freshness, like, completion and skip rates, when
it came out against the viewer's last like) are its features; the ranker (``discovery.model``, fitted by
beat) scores them and says which sources explain the card.
The ranked list is diversified (at most ``FOR_YOU_PER_CREATOR`` per creator in any
``FOR_YOU_DIVERSITY_WINDOW`` consecutive cards, one exploration slot per window).
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from activity.models import Favorite, Follow, Like, View
from activity.visibility import relations
from discovery import model, pools, store
from feed import services, trending_store
from videos.models import Video, VideoHashtag

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
# Each source's share of its points (out of 100): how much of a viewer's next likes it is
# expected to explain. A source spreads its share over its candidates by their evidence;
# the points are features of the ranker (``discovery.model``), whose default weights
# rank by their sum.
SHARES = {
    "hashtags": 60.0,
    "followed": 20.0,
    "creators": 10.0,
    "co_engagement": 10.0,
    "trending": 10.0,
    "exploration": 3.0,
}
SMOOTHING_VIEWS = 5  # prior views at the average rate: a video with two views has no rate yet
PRIOR_COMPLETION, PRIOR_SKIP = 0.5, 0.2
LIKE_PACE_HOURS = 24.0  # a video gets most of its likes in its first day or two: likes / share of that so far


@dataclass
class Candidate:
    video_id: str
    owner_id: int = 0
    username: str = ""
    age_hours: float = 0.0
    published_at: datetime | None = None
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)
    explore: bool = False
    features: dict[str, float] = field(default_factory=dict)  # ``model.FEATURES``
    labels: dict[str, str] = field(default_factory=dict)  # source -> the reason it gives

    def add(self, source: str, points: float, reason: str) -> None:
        self.features[source] = self.features.get(source, 0.0) + points
        self.labels.setdefault(source, reason)  # sources add their strongest evidence first


@dataclass
class Signals:
    weights: dict[str, float]  # video id -> how much the user liked it (negative: skipped)
    seen: set[str]  # videos liked, favorited or viewed: not recommended again
    followees: list[int]
    last_like_at: datetime | None  # when the viewer last liked something


def _signals(*, user_id: int, before: datetime | None = None) -> Signals:
    """The user's engagement (all of it, or what happened before ``before``)."""

    def until(queryset):
        return queryset.filter(created_at__lt=before) if before is not None else queryset

    weights: dict[str, float] = defaultdict(float)
    seen: set[str] = set()
    likes = list(
        until(Like.objects.filter(user_id=user_id)).order_by("-created_at").values_list("video_id", "created_at")
    )[:SIGNAL_LIKES]
    for video_id, _ in likes:
        weights[str(video_id)] += LIKE_WEIGHT
    favorites = until(Favorite.objects.filter(user_id=user_id)).order_by("-created_at")
    for video_id in favorites.values_list("video_id", flat=True)[:SIGNAL_LIKES]:
        weights[str(video_id)] += FAVORITE_WEIGHT
    seen |= set(weights)
    views = until(View.objects.filter(viewer_id=user_id)).order_by("-created_at")
    for video_id, watched_ms, duration in views.values_list("video_id", "watched_ms", "video__duration")[:SIGNAL_VIEWS]:
        key = str(video_id)
        seen.add(key)
        if duration and watched_ms >= settings.FOR_YOU_COMPLETION_RATIO * duration * 1000:
            weights[key] += COMPLETION_WEIGHT
        elif watched_ms < settings.FOR_YOU_SKIP_MS and weights.get(key, 0) <= 0:
            weights[key] += SKIP_WEIGHT
    followees = list(until(Follow.objects.filter(follower_id=user_id)).values_list("followee_id", flat=True))
    last_like_at = likes[0][1] if likes else None
    return Signals(weights=dict(weights), seen=seen, followees=followees, last_like_at=last_like_at)


def _affinities(signals: Signals) -> tuple[dict[int, tuple[str, float]], dict[int, float]]:
    """(hashtag id -> (name, weight)) and (creator id -> weight), the positive ones, best first."""
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
    return dict(top_tags), dict(top_creators)


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
    best = videos.order_by(pools.quality_order().desc(), "-id").values_list(
        "id", "likes_count", "published_at", "owner__username"
    )
    return {
        str(video_id): (pools.quality(likes=likes, published_at=published_at, now=now), username)
        for video_id, likes, published_at, username in best[:CANDIDATES_PER_SOURCE]
    }


def _best_recent_by_creator(creator_ids: list[int]) -> dict[int, dict[str, tuple[float, str]]]:
    """``_best_recent`` per creator in one query: creator id -> the best
    ``CANDIDATES_PER_CREATOR`` of their recent videos -> (quality, username)."""
    now = timezone.now()
    ranked = (
        _recent_public()
        .filter(owner_id__in=creator_ids)
        .annotate(position=Window(RowNumber(), partition_by=[F("owner_id")], order_by=pools.quality_order().desc()))
        .filter(position__lte=CANDIDATES_PER_CREATOR)
        .values_list("owner_id", "id", "likes_count", "published_at", "owner__username")
    )
    by_creator: dict[int, dict[str, tuple[float, str]]] = defaultdict(dict)
    for owner_id, video_id, likes, published_at, username in ranked:
        quality = pools.quality(likes=likes, published_at=published_at, now=now)
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
    """Candidates by video id. Each source spreads its share of the points over its videos
    in proportion to their evidence (quality, co-engagement count, trending score)."""

    def spread(self, source: str, share: float, evidence: dict[str, float], reason) -> None:
        for video_id, part in _shares(evidence).items():
            self.setdefault(video_id, Candidate(video_id=video_id)).add(source, share * part, reason(video_id))


def rank_for_user(*, user_id: int, use_redis: bool = True) -> list[Candidate]:
    """The user's For You list, best first by the ranker, diversified (at most ``FOR_YOU_MAX_ITEMS``).
    Redis down: the default weights (the fitted ones live in Redis)."""
    weights = model.current_weights() if use_redis else model.DEFAULT_WEIGHTS
    ranked = candidates_for_user(user_id=user_id, use_redis=use_redis)
    for item in ranked:
        item.score = model.score(item.features, weights)
        item.reasons = model.reasons(features=item.features, weights=weights, labels=item.labels)
    ranked.sort(key=lambda item: (-item.score, item.video_id))
    return diversify(ranked)


def candidates_for_user(
    *,
    user_id: int,
    use_redis: bool = True,
    before: datetime | None = None,
    co_neighbours: dict[str, list[str]] | None = None,
    discount: frozenset[str] = frozenset(),
    sample: Callable[[list[str]], list[str]] | None = None,
) -> list[Candidate]:
    """The user's candidates with their features, unordered; nothing seen, own, hidden or no
    longer public. For the ranker's fit (``discovery.training``): ``before`` limits the
    user's signals to what happened before it, ``co_neighbours`` replaces the stored
    co-engagement table, the counters of the ``discount`` videos lose the like, view and
    completion the user gave them after ``before``, and ``sample`` picks the candidates
    worth describing (the liked ones and some others: describing costs most)."""
    signals = _signals(user_id=user_id, before=before)
    all_tags, all_creators = _affinities(signals)
    tags, creators = dict(list(all_tags.items())[:TOP_HASHTAGS]), dict(list(all_creators.items())[:TOP_CREATORS])
    tag_interests = _shares({tag_id: weight for tag_id, (_, weight) in tags.items()}, power=TAG_INTEREST_POWER)
    creator_interests = _shares(creators)
    candidates = Candidates()
    if tags:
        tag_pools = pools.tag_pools(tag_ids=list(tags), use_redis=use_redis)
        for tag_id, interest in sorted(tag_interests.items(), key=lambda item: -item[1]):
            reason = f"liked #{tags[tag_id][0]} videos"
            candidates.spread(
                "hashtags", SHARES["hashtags"] * interest, tag_pools.get(tag_id, {}), lambda _, r=reason: r
            )
    if signals.followees:
        followed = _best_recent(_recent_public().filter(owner_id__in=signals.followees))
        candidates.spread(
            "followed",
            SHARES["followed"],
            {video_id: quality for video_id, (quality, _) in followed.items()},
            lambda video_id: f"you follow @{followed[video_id][1]}",
        )
    by_creator = _best_recent_by_creator(list(creators))
    for creator_id, interest in sorted(creator_interests.items(), key=lambda item: -item[1]):
        # Per creator: a strong affinity is not crowded out by a prolific weak one.
        videos = by_creator.get(creator_id, {})
        candidates.spread(
            "creators",
            SHARES["creators"] * interest,
            {video_id: quality for video_id, (quality, _) in videos.items()},
            lambda video_id, v=videos: f"liked videos by @{v[video_id][1]}",
        )
    together = _co_engaged_counts(signals=signals, use_redis=use_redis, table=co_neighbours)
    co_reason = "viewers like you liked or finished this"
    candidates.spread("co_engagement", SHARES["co_engagement"], together, lambda _: co_reason)
    candidates.spread("trending", SHARES["trending"], _trending(use_redis=use_redis), lambda _: "trending")
    explore = _exploration_ids(user_id=user_id)
    candidates.spread("exploration", SHARES["exploration"], dict.fromkeys(explore, 1.0), lambda _: "new: few views yet")
    for video_id in explore:
        candidates[video_id].explore = True
    for video_id in signals.seen:
        candidates.pop(video_id, None)
    if sample is not None:
        candidates = Candidates({video_id: candidates[video_id] for video_id in sample(list(candidates))})
    kept = _shown(user_id=user_id, candidates=candidates)
    _describe(
        kept,
        tag_interests=tag_interests,
        tag_weights={tag_id: weight for tag_id, (_, weight) in all_tags.items()},
        creator_interests=creator_interests,
        followees=set(signals.followees),
        together=together,
        discount=discount,
        last_like_at=signals.last_like_at,
    )
    return kept


def _co_engaged_counts(*, signals: Signals, use_redis: bool, table: dict[str, list[str]] | None) -> dict[str, float]:
    """Video id -> how many of the viewer's strongest engagements list it as a neighbour
    (the best ``CANDIDATES_PER_SOURCE``); none with Redis down (the table lives there)."""
    if table is None and not use_redis:
        return {}
    engaged = [video_id for video_id, weight in sorted(signals.weights.items(), key=lambda i: -i[1]) if weight > 0]
    seeds = engaged[:CO_ENGAGED_SEEDS]
    if table is None:
        table = store.co_engaged(video_ids=seeds)
    together: Counter[str] = Counter()
    for video_id in seeds:
        together.update(table.get(video_id, [])[: settings.FOR_YOU_CO_NEIGHBOURS])
    return dict(together.most_common(CANDIDATES_PER_SOURCE))


def _shown(*, user_id: int, candidates: dict[str, Candidate]) -> list[Candidate]:
    """The candidates that may be shown (public, not the user's own, no blocked or muted
    creator), with their creator, age and counters as features."""
    now = timezone.now()
    kept: list[Candidate] = []
    rows = (
        Video.objects.public()
        .filter(id__in=list(candidates))
        .exclude(owner_id__in=[user_id, *relations.hidden_user_ids(viewer_id=user_id)])
        .values_list("id", "owner_id", "owner__username", "published_at", "likes_count")
    )
    for video_id, owner_id, username, published_at, likes in rows:
        found = candidates[str(video_id)]
        found.owner_id, found.username = owner_id, username
        found.age_hours = max((now - published_at).total_seconds() / 3600, 0.0)
        found.published_at = published_at
        found.features["likes"] = likes  # raw: replaced by its features in ``_describe``
        kept.append(found)
    return kept


def _describe(
    kept: list[Candidate],
    *,
    tag_interests: dict[int, float],
    tag_weights: dict[int, float],
    creator_interests: dict[int, float],
    followees: set[int],
    together: dict[str, float],
    discount: frozenset[str],
    last_like_at: datetime | None,
) -> None:
    """Fill each candidate's features (``discovery.model.FEATURES``) in two queries:
    its hashtags, its views (completed, skipped)."""
    ids = [item.video_id for item in kept]
    tags_of: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for video_id, tag_id, videos in VideoHashtag.objects.filter(video_id__in=ids).values_list(
        "video_id", "hashtag_id", "hashtag__video_count"
    ):
        tags_of[str(video_id)].append((tag_id, videos))
    views = (
        View.objects.filter(video_id__in=ids)
        .values("video_id")
        .annotate(
            total=Count("id"),
            completed=Count(
                "id", filter=Q(watched_ms__gte=settings.FOR_YOU_COMPLETION_RATIO * F("video__duration") * 1000)
            ),
            skipped=Count("id", filter=Q(watched_ms__lt=settings.FOR_YOU_SKIP_MS)),
        )
        .values_list("video_id", "total", "completed", "skipped")
    )
    view_counts = {str(video_id): (total, completed, skipped) for video_id, total, completed, skipped in views}
    for item in kept:
        own = 1 if item.video_id in discount else 0  # the viewer's own later like, view, completion
        likes = max(item.features.pop("likes") - own, 0)
        total, completed, skipped = view_counts.get(item.video_id, (0, 0, 0))
        total, completed = max(total - own, 0), max(completed - own, 0)
        item.features.update(
            tag_match=sum(tag_interests.get(tag_id, 0.0) for tag_id, _ in tags_of[item.video_id]),
            tag_lift=_tag_lift(tags_of[item.video_id], tag_weights),
            log_like_pace=math.log((likes + 1) / (1 - math.exp(-(item.age_hours + 1) / LIKE_PACE_HOURS))),
            creator_match=creator_interests.get(item.owner_id, 0.0),
            is_followed=1.0 if item.owner_id in followees else 0.0,
            log_co_count=math.log1p(together.get(item.video_id, 0.0)),
            log_likes=math.log1p(likes),
            freshness=math.exp(-item.age_hours / pools.FRESHNESS_HOURS),
            log_age=math.log1p(item.age_hours),
            like_rate=(likes + 1) / (total + 2),
            completion_rate=(completed + PRIOR_COMPLETION * SMOOTHING_VIEWS) / (total + SMOOTHING_VIEWS),
            skip_rate=(skipped + PRIOR_SKIP * SMOOTHING_VIEWS) / (total + SMOOTHING_VIEWS),
            **_since_last_like(item.published_at, last_like_at),
        )


def _tag_lift(tags: list[tuple[int, int]], tag_weights: dict[int, float]) -> float:
    """How much more the viewer engages with the video's best hashtag than its share of all
    videos would say: max over its tags of log(viewer's share of the tag) - log(tag's videos),
    up to a constant per viewer (a generic tag such as #fyp is everywhere: it lifts little)."""
    total = sum(tag_weights.values()) + 1.0
    lifts = [math.log((tag_weights.get(tag_id, 0.0) + 0.5) / total) - math.log(videos + 1) for tag_id, videos in tags]
    return max(lifts, default=math.log(0.5 / total))


def _since_last_like(published_at: datetime, last_like_at: datetime | None) -> dict[str, float]:
    """Where a video falls against the viewer's last like: published since (new to them), or
    how many days before it (what they had the chance to like then and did not)."""
    if last_like_at is None:
        return {"after_last_like": 0.0, "log_days_before_last_like": 0.0}
    days = (last_like_at - published_at).total_seconds() / 86400
    return {"after_last_like": 1.0 if days <= 0 else 0.0, "log_days_before_last_like": math.log1p(max(days, 0.0))}


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
        # Lazily: the first eligible candidate is usually near the head of a long list.
        eligible = (index for index, item in enumerate(pending) if recent[item.owner_id] < per_creator)
        choice = next(eligible, None)
        if choice is None:
            break
        if len(placed) % window == explore_slot and not any(item.explore for item in placed[-explore_slot:]):
            explore_from = (index for index in eligible if pending[index].explore)
            choice = choice if pending[choice].explore else next(explore_from, choice)
        placed.append(pending.pop(choice))
    return placed
