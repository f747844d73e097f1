"""The For You lists and co-engagement in the cache Redis (the only code that touches their keys).

Everything here is derived (rebuilt by ``feed.for_you`` from Postgres) and lives in the LRU
cache instance. ``{…}`` is a Redis Cluster hash tag: one user's For You keys share the slot
of their feed keys (``feed:{<user_id>}``), so one pipeline reaches both.

``foryou:{<user_id>}:current``      string: the version of the list being served
``foryou:{<user_id>}:v:<version>``  list: JSON ``[video_id, score, [reasons…], owner_id]``, best
                                    first;
                                    an older version is kept a while so a client paging it
                                    pages stably
``foryou:{<user_id>}:pending``      string: set while a rebuild is queued (debounce)
``foryou:{<user_id>}:lock``         string: held while a reader builds a missing list
``foryou:{co}:neighbours``          hash: video id -> JSON list of its co-engaged video ids,
                                    best first (at most ``FOR_YOU_CO_NEIGHBOURS`` each, at
                                    most ``FOR_YOU_CO_MAX_VIDEOS`` videos): bounded
``foryou:{tag:<tag_id>}:pool``      sorted set: a hashtag's best recent videos, video id ->
                                    quality (``feed.for_you_pools``; at most
                                    ``TAG_POOL_SIZE`` members, ``TAG_POOLS_MAX`` tags kept by
                                    beat); one slot per tag, replaced by a RENAME
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence

from feed.store import _text, client

FOR_YOU_CURRENT_KEY = "foryou:{{{user_id}}}:current"
FOR_YOU_LIST_KEY = "foryou:{{{user_id}}}:v:{version}"
FOR_YOU_PENDING_KEY = "foryou:{{{user_id}}}:pending"
FOR_YOU_LOCK_KEY = "foryou:{{{user_id}}}:lock"
CO_ENGAGEMENT_KEY = "foryou:{co}:neighbours"
TAG_POOL_KEY = "foryou:{{tag:{tag_id}}}:pool"
TAG_POOL_STAGING_KEY = "foryou:{{tag:{tag_id}}}:pool:staging"  # same slot: RENAME swaps it in

# A superseded version stays readable this long (a client paging it keeps its order).
OLD_VERSION_SECONDS = 600


def publish_list(*, user_id: int, ranked: Sequence[tuple[str, float, list[str], int]], keep_seconds: int) -> str:
    """Store a new ranked list for one user and make it current; returns its version."""
    version = str(time.time_ns() // 1000)
    key = FOR_YOU_LIST_KEY.format(user_id=user_id, version=version)
    current_key = FOR_YOU_CURRENT_KEY.format(user_id=user_id)
    previous = client().get(current_key)
    pipe = client().pipeline(transaction=True)
    if ranked:
        pipe.rpush(
            key,
            *[json.dumps([video_id, round(score, 4), reasons, owner]) for video_id, score, reasons, owner in ranked],
        )
        pipe.expire(key, keep_seconds)
    pipe.set(current_key, version, ex=keep_seconds)
    if previous is not None:
        pipe.expire(FOR_YOU_LIST_KEY.format(user_id=user_id, version=_text(previous)), OLD_VERSION_SECONDS)
    pipe.execute()
    return version


def current_version(*, user_id: int) -> str | None:
    value = client().get(FOR_YOU_CURRENT_KEY.format(user_id=user_id))
    return _text(value) if value is not None else None


def list_page(
    *, user_id: int, version: str, offset: int, count: int
) -> tuple[list[tuple[str, float, list, int]], bool]:
    """A slice of one version: ([(video id, score, reasons, owner id)], whether it exists).

    An empty list (nothing to recommend) is stored as no list key under a current version:
    the version counts as existing while it is current.
    """
    key = FOR_YOU_LIST_KEY.format(user_id=user_id, version=version)
    pipe = client().pipeline(transaction=False)
    pipe.lrange(key, offset, offset + count - 1)
    pipe.exists(key)
    pipe.get(FOR_YOU_CURRENT_KEY.format(user_id=user_id))
    rows, exists, current = pipe.execute()
    items = [tuple(json.loads(row)) for row in rows]
    return items, bool(exists) or (current is not None and _text(current) == version)


def claim_rebuild(*, user_id: int, seconds: float) -> bool:
    """True for the first caller in ``seconds``: later engagement in the window rides along."""
    return bool(client().set(FOR_YOU_PENDING_KEY.format(user_id=user_id), "1", nx=True, px=int(seconds * 1000)))


def acquire_build_lock(*, user_id: int, seconds: float) -> bool:
    return bool(client().set(FOR_YOU_LOCK_KEY.format(user_id=user_id), "1", nx=True, px=int(seconds * 1000)))


def release_build_lock(*, user_id: int) -> None:
    client().delete(FOR_YOU_LOCK_KEY.format(user_id=user_id))


def discard(*, user_id: int) -> None:
    """Forget a user's list (the next read builds it again)."""
    client().delete(FOR_YOU_CURRENT_KEY.format(user_id=user_id))


def publish_co_engagement(*, neighbours: dict[str, list[str]], keep_seconds: int) -> None:
    """Replace the co-engagement table in one transaction."""
    pipe = client().pipeline(transaction=True)
    pipe.delete(CO_ENGAGEMENT_KEY)
    if neighbours:
        pipe.hset(CO_ENGAGEMENT_KEY, mapping={video_id: json.dumps(ids) for video_id, ids in neighbours.items()})
        pipe.expire(CO_ENGAGEMENT_KEY, keep_seconds)
    pipe.execute()


def co_engaged(*, video_ids: Sequence[str]) -> dict[str, list[str]]:
    """Each given video's co-engaged neighbours (videos without any are left out)."""
    if not video_ids:
        return {}
    values = client().hmget(CO_ENGAGEMENT_KEY, list(video_ids))
    return {video_id: json.loads(value) for video_id, value in zip(video_ids, values, strict=True) if value}


def co_engagement_size() -> int:
    return int(client().hlen(CO_ENGAGEMENT_KEY))


def publish_tag_pools(*, pools: dict[int, dict[str, float]], keep_seconds: int) -> None:
    """Replace each given tag's pool (an empty one is deleted); a reader sees the old or the new."""
    pipe = client().pipeline(transaction=False)
    for tag_id, members in pools.items():
        key = TAG_POOL_KEY.format(tag_id=tag_id)
        if not members:
            pipe.delete(key)
            continue
        staging = TAG_POOL_STAGING_KEY.format(tag_id=tag_id)
        pipe.delete(staging)
        pipe.zadd(staging, members)
        pipe.expire(staging, keep_seconds)
        pipe.rename(staging, key)
    pipe.execute()


def tag_pools(*, tag_ids: Sequence[int]) -> dict[int, dict[str, float]]:
    """The stored pools of ``tag_ids`` (tag id -> {video id: quality}); missing ones left out."""
    pipe = client().pipeline(transaction=False)
    for tag_id in tag_ids:
        pipe.zrange(TAG_POOL_KEY.format(tag_id=tag_id), 0, -1, withscores=True)
    return {
        tag_id: {_text(member): float(score) for member, score in rows}
        for tag_id, rows in zip(tag_ids, pipe.execute(), strict=True)
        if rows
    }
