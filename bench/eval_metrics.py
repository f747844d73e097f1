"""The hold-out and the rankings compared by ``manage.py eval_for_you``.

Each sampled user's ``holdout`` most recent likes are deleted (with the user's views of
those videos, which would otherwise mark them seen), the counters, trending, the
co-engagement neighbours and the hashtag pools are recomputed without them and the ranker
is fitted on what is left, as beat does (nothing derived from a held-out like survives),
and three lists are built for the user: For You
(``discovery.ranking.rank_for_user``, the real ranking), trending (the current trending
version) and the following feed (``feed.selectors.pull_feed_entries``, newest first).
Every list drops what the user has already liked or viewed and their own videos (For You
does so itself; the baselines get the same help).

hit-rate@k: the share of sampled users with at least one held-out video in the list's
top k. recall@k: the share of all held-out likes found in the top k.
"""

from __future__ import annotations

import random
import re
import time
from collections import defaultdict

from django.conf import settings
from django.db import connection

from activity.models import Favorite, Like, View
from bench.eval_seed import recount_counters
from discovery import model, pools, ranking, training
from feed import services, trending_store
from feed.selectors import pull_feed_entries
from videos.models import Video

METHODS = ("for_you", "trending", "following")
CUTOFFS = (10, 50)
MIN_HISTORY = 5  # likes a sampled user keeps after the hold-out
FIT_SEED = 0  # the ranker's fit samples its viewers with this seed: runs compare


def sample_users(*, size: int, holdout: int, exclude_below: int, rng: random.Random) -> list[int]:
    """Users (ids above ``exclude_below``: not creators) with enough likes, sampled."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT user_id FROM activity_like WHERE user_id > %s GROUP BY user_id HAVING count(*) >= %s"
            " ORDER BY user_id",
            [exclude_below, holdout + MIN_HISTORY],
        )
        eligible = [row[0] for row in cursor.fetchall()]
    return sorted(rng.sample(eligible, min(size, len(eligible))))


def hold_out(*, user_ids: list[int], holdout: int) -> dict[int, set[str]]:
    """Delete each user's ``holdout`` most recent likes (and their views of them); return them."""
    held: dict[int, set[str]] = {}
    for user_id in user_ids:
        recent = list(
            Like.objects.filter(user_id=user_id).order_by("-created_at", "-id").values_list("id", "video_id")[:holdout]
        )
        held[user_id] = {str(video_id) for _, video_id in recent}
        Like.objects.filter(id__in=[like_id for like_id, _ in recent]).delete()
        View.objects.filter(viewer_id=user_id, video_id__in=list(held[user_id])).delete()
        Favorite.objects.filter(user_id=user_id, video_id__in=list(held[user_id])).delete()
    with connection.cursor() as cursor:
        recount_counters(cursor)
    return held


def seen_by(user_id: int) -> set[str]:
    seen = {str(v) for v in Like.objects.filter(user_id=user_id).values_list("video_id", flat=True)}
    seen |= {str(v) for v in Favorite.objects.filter(user_id=user_id).values_list("video_id", flat=True)}
    seen |= {str(v) for v in View.objects.filter(viewer_id=user_id).values_list("video_id", flat=True)}
    seen |= {str(v) for v in Video.objects.filter(owner_id=user_id).values_list("id", flat=True)}
    return seen


def evaluate(*, held: dict[int, set[str]], out=None) -> dict:
    """Fit the ranker, build the three lists per user and score them against the held-out likes."""
    started = time.monotonic()
    version = services.trending_recompute()
    rows, _ = trending_store.trending_page(version=version, offset=0, count=5_000)
    trending = [row[0] for row in rows]
    neighbours = pools.co_engagement_recompute()
    tag_pools = pools.tag_pools_recompute()
    # As many viewers as are evaluated: the fit costs about one list build per viewer.
    ranker = training.ranker_fit(viewers=len(held), rng=random.Random(FIT_SEED))
    setup_seconds = time.monotonic() - started
    hits = {method: dict.fromkeys(CUTOFFS, 0) for method in METHODS}
    found = {method: dict.fromkeys(CUTOFFS, 0) for method in METHODS}
    lengths: dict[str, list[int]] = defaultdict(list)
    reasons: dict[str, int] = defaultdict(int)  # For You: sources of the held-out videos it found
    build_seconds: list[float] = []
    in_list = {"hit": 0, "found": 0}  # For You: held-out likes anywhere in its whole list
    top = max(CUTOFFS)
    for n, (user_id, targets) in enumerate(sorted(held.items()), start=1):
        seen = seen_by(user_id)
        step = time.monotonic()
        ranked = ranking.rank_for_user(user_id=user_id)
        build_seconds.append(time.monotonic() - step)
        whole = targets.intersection(item.video_id for item in ranked)
        in_list["found"] += len(whole)
        in_list["hit"] += bool(whole)
        for item in ranked[:top]:
            if item.video_id in targets:
                for reason in item.reasons:
                    reasons[re.sub(r"([@#])\S+", r"\1...", reason)] += 1
        following = [
            entry.video_id
            for entry in pull_feed_entries(user_id=user_id, before=None, limit=len(seen) + top)
            if entry.video_id not in seen
        ]
        lists = {
            "for_you": [item.video_id for item in ranked],
            "trending": [video_id for video_id in trending if video_id not in seen],
            "following": following,
        }
        for method, ids in lists.items():
            lengths[method].append(min(len(ids), top))
            for cutoff in CUTOFFS:
                matched = len(targets.intersection(ids[:cutoff]))
                found[method][cutoff] += matched
                hits[method][cutoff] += matched > 0
        if out is not None and n % 50 == 0:
            out.write(f"  evaluated {n}/{len(held)} users\n")
    users = len(held)
    total = sum(len(targets) for targets in held.values())
    build_seconds.sort()
    return {
        "definition": "hit-rate@k: share of sampled users with >= 1 held-out like in the top k; "
        "recall@k: share of held-out likes in the top k",
        "users": users,
        "held_out_likes": total,
        "hit_rate": {m: {str(k): round(hits[m][k] / max(users, 1), 4) for k in CUTOFFS} for m in METHODS},
        "recall": {m: {str(k): round(found[m][k] / max(total, 1), 4) for k in CUTOFFS} for m in METHODS},
        "for_you_whole_list": {
            "length_cap": settings.FOR_YOU_MAX_ITEMS,
            "hit_rate": round(in_list["hit"] / max(users, 1), 4),
            "recall": round(in_list["found"] / max(total, 1), 4),
        },
        "mean_list_length": {m: round(sum(v) / max(len(v), 1), 1) for m, v in lengths.items()},
        "for_you_hit_reasons": dict(sorted(reasons.items(), key=lambda item: -item[1])),
        "trending_items": len(trending),
        "co_engagement_videos": neighbours,
        "tag_pools": tag_pools,
        "ranker": {key: value for key, value in ranker.items() if key != "weights"}
        | {"weights": {name: round(weight, 4) for name, weight in ranker.get("weights", {}).items()}}
        # False: the stored weights were lost during the run (cache Redis restarted): defaults ranked.
        | {"served_to_the_end": model.stored_model() is not None},
        "setup_seconds": round(setup_seconds, 2),
        "for_you_build_ms": {
            "p50": round(1000 * build_seconds[len(build_seconds) // 2], 1) if build_seconds else None,
            "max": round(1000 * build_seconds[-1], 1) if build_seconds else None,
        },
    }
