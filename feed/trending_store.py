"""The trending ranking in the cache Redis (the only code that touches its keys).

``trending:{trending}:current``          string: the version being served
``trending:{trending}:v:<version>``      sorted set: video id -> trending score (kept a
                                         while, so a client paging an older version
                                         still pages stably)
``trending:{trending}:parts:<version>``  hash: video id -> JSON of the parts it was ranked by
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence

from feed.store import client, text

# One hash tag for every trending key: a version and "current" change in one transaction.
TRENDING_CURRENT_KEY = "trending:{trending}:current"
TRENDING_KEY = "trending:{{trending}}:v:{version}"
TRENDING_PARTS_KEY = "trending:{{trending}}:parts:{version}"


def publish_trending(*, ranked: Sequence[tuple[str, float, dict]], keep_seconds: int) -> str:
    """Store a new trending version and make it current; returns the version."""
    version = str(int(time.time() * 1000))
    key = TRENDING_KEY.format(version=version)
    parts_key = TRENDING_PARTS_KEY.format(version=version)
    pipe = client().pipeline(transaction=True)
    if ranked:
        pipe.zadd(key, {video_id: score for video_id, score, _ in ranked})
        pipe.hset(parts_key, mapping={video_id: json.dumps(parts) for video_id, _, parts in ranked})
        pipe.expire(key, keep_seconds)
        pipe.expire(parts_key, keep_seconds)
    pipe.set(TRENDING_CURRENT_KEY, version)
    pipe.execute()
    return version


def current_trending_version() -> str | None:
    value = client().get(TRENDING_CURRENT_KEY)
    return text(value) if value is not None else None


def trending_page(*, version: str, offset: int, count: int) -> tuple[list[tuple[str, float, dict]], bool]:
    """A slice of one trending version with each item's rank parts; (items, version_exists)."""
    key = TRENDING_KEY.format(version=version)
    pipe = client().pipeline(transaction=False)
    pipe.exists(key)
    pipe.zrevrange(key, offset, offset + count - 1, withscores=True)
    exists, rows = pipe.execute()
    if not rows:
        return [], bool(exists)
    ids = [text(member) for member, _ in rows]
    parts = client().hmget(TRENDING_PARTS_KEY.format(version=version), ids)
    return [
        (video_id, float(score), json.loads(part) if part else {})
        for video_id, (_, score), part in zip(ids, rows, parts, strict=True)
    ], True


def remove_from_trending(*, video_id: str) -> None:
    version = current_trending_version()
    if version:
        client().zrem(TRENDING_KEY.format(version=version), video_id)
