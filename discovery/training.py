"""The fit of For You's ranker (``discovery.model``), run by beat.

Examples come from recent engagement, as the offline evaluation measures it: for a sample
of viewers who liked something in the last ``FOR_YOU_MODEL_WINDOW_DAYS`` days, their
``TARGETS_PER_VIEWER`` latest likes are the videos to predict. Their candidates are built
from what they did before those likes (``discovery.ranking.candidates_for_user`` with
``before``), with a co-engagement table computed without those likes and the likes taken
off the videos' counters, so nothing the fit predicts is evidence for itself. Each liked
video that was a candidate is paired with ``NEGATIVES_PER_LIKE`` candidates the viewer did
not like, and ``discovery.model.fit_pairwise`` learns to order the pairs.

Bounded: ``FOR_YOU_MODEL_USERS`` viewers, ``FOR_YOU_MODEL_SECONDS`` of candidate building,
``NEGATIVES_PER_LIKE`` pairs per liked video.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from activity.models import Like
from discovery import model, pools, ranking

logger = logging.getLogger(__name__)

TARGETS_PER_VIEWER = 5  # latest likes predicted per viewer (the evaluation holds out 5)
MIN_HISTORY = 5  # likes a viewer must have before them
NEGATIVES_PER_LIKE = 20
MIN_PAIRS = 200  # fewer: the stored weights (or the defaults) stay
VIEWERS_SCANNED = 100_000  # recent likers the sample is drawn from


@dataclass
class Examples:
    pairs: list[tuple[dict[str, float], dict[str, float]]]
    viewers: int
    likes: int  # liked videos to predict
    found: int  # of those, how many were candidates


def _targets(*, since: datetime, viewers: int, rng: random.Random) -> dict[int, list[tuple[str, datetime]]]:
    """Sampled viewer -> their latest likes (video id, time), all since ``since``."""
    recent = list(
        Like.objects.filter(created_at__gte=since).values_list("user_id", flat=True).distinct()[:VIEWERS_SCANNED]
    )
    chosen = rng.sample(recent, min(len(recent), viewers))
    targets: dict[int, list[tuple[str, datetime]]] = {}
    for user_id in sorted(chosen):
        latest = list(
            Like.objects.filter(user_id=user_id)
            .order_by("-created_at", "-id")
            .values_list("video_id", "created_at")[: TARGETS_PER_VIEWER + MIN_HISTORY]
        )
        if len(latest) == TARGETS_PER_VIEWER + MIN_HISTORY:
            targets[user_id] = [(str(video_id), at) for video_id, at in latest[:TARGETS_PER_VIEWER] if at >= since]
    return {user_id: liked for user_id, liked in targets.items() if liked}


def training_examples(*, viewers: int, rng: random.Random) -> Examples:
    """Pairs (liked video's features, another candidate's features) from recent engagement."""
    started = time.monotonic()
    since = timezone.now() - timedelta(days=settings.FOR_YOU_MODEL_WINDOW_DAYS)
    targets = _targets(since=since, viewers=viewers, rng=rng)
    table = pools.co_engagement_compute(
        excluded=[(user_id, video_id) for user_id, liked in targets.items() for video_id, _ in liked]
    )
    examples = Examples(pairs=[], viewers=0, likes=0, found=0)
    for user_id, liked in targets.items():
        if time.monotonic() - started > settings.FOR_YOU_MODEL_SECONDS:
            break
        ids = frozenset(video_id for video_id, _ in liked)
        # A like follows the view that finished the video by seconds: both come after this.
        before = min(at for _, at in liked) - timedelta(minutes=1)
        candidates = ranking.candidates_for_user(
            user_id=user_id,
            before=before,
            co_neighbours=table,
            discount=ids,
            sample=lambda found, ids=ids: _liked_and_others(found, liked=ids, rng=rng),
        )
        positives = [item for item in candidates if item.video_id in ids]
        others = [item for item in candidates if item.video_id not in ids]
        examples.viewers += 1
        examples.likes += len(ids)
        examples.found += len(positives)
        for liked_item in positives:
            for other in rng.sample(others, min(len(others), NEGATIVES_PER_LIKE)):
                examples.pairs.append((liked_item.features, other.features))
    return examples


def _liked_and_others(found: list[str], *, liked: frozenset[str], rng: random.Random) -> list[str]:
    """The liked candidates and twice ``NEGATIVES_PER_LIKE`` others (some may not be shown)."""
    others = [video_id for video_id in found if video_id not in liked]
    return [video_id for video_id in found if video_id in liked] + rng.sample(
        others, min(len(others), 2 * NEGATIVES_PER_LIKE)
    )


def ranker_fit(*, viewers: int | None = None, rng: random.Random | None = None) -> dict:
    """Fit the ranker's weights on recent engagement and store them; returns the fit's facts.
    ``viewers`` (default ``FOR_YOU_MODEL_USERS``) and ``rng`` serve the offline evaluation."""
    started = time.monotonic()
    examples = training_examples(
        viewers=viewers or settings.FOR_YOU_MODEL_USERS,
        rng=rng or random.Random(),  # noqa: S311 - sampling, not security
    )
    facts = {
        "viewers": examples.viewers,
        "likes": examples.likes,
        "likes_in_candidates": examples.found,
        "pairs": len(examples.pairs),
    }
    if len(examples.pairs) < MIN_PAIRS:
        logger.info("For You ranker not fitted: %s pairs (fewer than %s)", len(examples.pairs), MIN_PAIRS)
        return {**facts, "fitted": False}
    weights = model.fit_pairwise(examples.pairs)
    facts |= {"fitted_at": timezone.now().isoformat(), "seconds": round(time.monotonic() - started, 1)}
    model.publish_weights(weights=weights, facts=facts, keep_seconds=int(settings.FOR_YOU_MODEL_INTERVAL_SECONDS * 6))
    return {**facts, "fitted": True, "weights": weights}
