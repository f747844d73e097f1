"""The For You lists and co-engagement in the cache Redis (the only code that touches their keys).

Everything here is derived (rebuilt by ``discovery.for_you`` from Postgres) and lives in the LRU
cache instance. ``{…}`` is a Redis Cluster hash tag: one user's For You keys share the slot
of their feed keys (``feed:v2:{<user_id>}``), seen set, flags and hidden users, so one script
call (``discovery/scripts/read_for_you_page.lua``) reads a page.

``foryou:v2:{<user_id>}:current``   string: the version of the list being served
``foryou:v2:{<user_id>}:list:<version>``  list: ``<feed id> <owner id> <rank JSON>`` per
                                    video, best first (the rank JSON is the card's
                                    ``rank``, spliced as is); an older version is kept a
                                    while so a client paging it pages stably. ``v2``: the
                                    rows were JSON arrays of public ids before; those keys
                                    are never read and expire
``foryou:{<user_id>}:pending``      string: set while a rebuild is queued (debounce)
``foryou:{<user_id>}:lock``         string: held while a reader builds a missing list
``foryou:{co}:neighbours``          hash: video id -> JSON list of its co-engaged video ids,
                                    best first (at most ``FOR_YOU_CO_NEIGHBOURS`` each, at
                                    most ``FOR_YOU_CO_MAX_VIDEOS`` videos): bounded
``foryou:{tag:<tag_id>}:pool``      sorted set: a hashtag's best recent videos, video id ->
                                    quality (``discovery.pools``; at most
                                    ``TAG_POOL_SIZE`` members, ``TAG_POOLS_MAX`` tags kept by
                                    beat); one slot per tag, replaced in one script call
``foryou:{model}:weights:v<n>``    string: JSON of the ranker's fitted weights and the facts
                                    of their fit (``discovery.model``; refitted by beat)
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import orjson

from feed.store import FEED_SEEN_KEY, client, is_cluster, text
from tiktok.redis_scripts import load_redis_script

FOR_YOU_CURRENT_KEY = "foryou:v2:{{{user_id}}}:current"
FOR_YOU_LIST_KEY = "foryou:v2:{{{user_id}}}:list:{version}"
FOR_YOU_PENDING_KEY = "foryou:{{{user_id}}}:pending"
FOR_YOU_LOCK_KEY = "foryou:{{{user_id}}}:lock"
CO_ENGAGEMENT_KEY = "foryou:{co}:neighbours"
TAG_POOL_KEY = "foryou:{{tag:{tag_id}}}:pool"

RANKER_MODEL_KEY = "foryou:{{model}}:weights:v{version}"  # per version of the features

# A superseded version stays readable this long (a client paging it keeps its order).
OLD_VERSION_SECONDS = 600
# Rows a page script reads from the list at a time (a page of 10 rarely skips many).
ROWS_PER_READ = 32

READ_FOR_YOU_PAGE = load_redis_script("discovery", "read_for_you_page.lua")
REPLACE_SORTED_SET = load_redis_script("discovery", "replace_sorted_set.lua")


@dataclass(frozen=True)
class RankedVideo:
    """One row of a list: the video (by feed id, as feeds and the seen set hold it), its
    creator (hidden users are filtered by it) and why it ranks where it does."""

    feed_id: int
    owner_id: int
    score: float
    reasons: list[str]


def _row(video: RankedVideo) -> bytes:
    rank = orjson.dumps({"score": round(video.score, 4), "reasons": video.reasons})
    return b"%d %d %s" % (video.feed_id, video.owner_id, rank)


def publish_list(*, user_id: int, ranked: Sequence[RankedVideo], keep_seconds: int) -> str:
    """Store a new ranked list for one user and make it current; returns its version."""
    version = str(time.time_ns() // 1000)
    key = FOR_YOU_LIST_KEY.format(user_id=user_id, version=version)
    current_key = FOR_YOU_CURRENT_KEY.format(user_id=user_id)
    previous = client().get(current_key)
    pipe = client().pipeline(transaction=True)
    if ranked:
        pipe.rpush(key, *[_row(video) for video in ranked])
        pipe.expire(key, keep_seconds)
    pipe.set(current_key, version, ex=keep_seconds)
    if previous is not None:
        pipe.expire(FOR_YOU_LIST_KEY.format(user_id=user_id, version=text(previous)), OLD_VERSION_SECONDS)
    pipe.execute()
    return version


def current_version(*, user_id: int) -> str | None:
    value = client().get(FOR_YOU_CURRENT_KEY.format(user_id=user_id))
    return text(value) if value is not None else None


@dataclass(frozen=True)
class PageRow:
    """A row a page may show: not seen, creator not hidden (when the set was cached)."""

    position: int  # in the list: the next page starts after the last row shown
    feed_id: int
    owner_id: int
    rank: bytes  # the card's ``rank`` as JSON
    card: bytes | None  # the cached card value (``videos.selectors``), None: not cached
    flag_bits: str  # "lfu" (``activity.engagement.flags``), "" when the viewer's flags hash is not built


@dataclass(frozen=True)
class PageRead:
    """What one ``read_page`` call found."""

    # The version read: the cursor's while it exists, else the current one from the start
    # (the cursor's expired); None: the user has no list (build it).
    version: str | None
    next_offset: int  # after the last row walked
    length: int  # rows in the version
    rows: list[PageRow]
    hidden_members: list[bytes]  # the viewer's hidden-users set ([]: not cached)
    flags_built: bool  # the viewer's flags hash was complete (else the rows carry no bits)

    @property
    def cards(self) -> dict[int, tuple[bytes | None, str]]:
        """feed id -> (card value, flag bits), as ``feed.pages`` hydrates a feed read."""
        return {row.feed_id: (row.card, row.flag_bits) for row in self.rows}


@dataclass(frozen=True)
class PageRequest:
    """The keys of other owners a page reads (in the viewer's slot, except the cards)."""

    card_key_template: str  # with "<id>" for the feed id (``videos.selectors``)
    flags_key: str  # ``activity.engagement.flags``
    hidden_key: str  # ``activity.visibility.relations``


def read_page(*, user_id: int, version: str | None, offset: int, wanted: int, keys: PageRequest) -> PageRead:
    """From ``offset`` of ``version`` (None: the current one), the next rows until ``wanted``
    of them may be shown, with their cards and the viewer's flags: one script call, and on
    Redis Cluster (cards live in other slots) one more ``mget_nonatomic`` for the cards."""
    cluster = is_cluster()
    current, next_offset, length, flat, hidden, flags_built = READ_FOR_YOU_PAGE(
        client(),
        keys=[
            FOR_YOU_CURRENT_KEY.format(user_id=user_id),
            FEED_SEEN_KEY.format(user_id=user_id),
            keys.flags_key,
            keys.hidden_key,
        ],
        args=[
            FOR_YOU_LIST_KEY.format(user_id=user_id, version="<version>"),
            version or "",
            offset,
            wanted,
            "" if cluster else keys.card_key_template,
            ROWS_PER_READ,
        ],
    )
    rows = [
        PageRow(
            position=int(flat[i]),
            feed_id=int(flat[i + 1]),
            owner_id=int(flat[i + 2]),
            rank=flat[i + 3],
            card=flat[i + 4] or None,
            flag_bits=text(flat[i + 5]),
        )
        for i in range(0, len(flat), 6)
    ]
    if cluster and rows:
        values = client().mget_nonatomic([keys.card_key_template.replace("<id>", str(row.feed_id)) for row in rows])
        rows = [replace(row, card=value) for row, value in zip(rows, values, strict=True)]
    return PageRead(
        version=text(current) or None,
        next_offset=int(next_offset),
        length=int(length),
        rows=rows,
        hidden_members=list(hidden),
        flags_built=bool(flags_built),
    )


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
    calls = [
        (
            [TAG_POOL_KEY.format(tag_id=tag_id)],
            [keep_seconds, *[value for video_id, quality in members.items() for value in (quality, video_id)]],
        )
        for tag_id, members in pools.items()
    ]
    if calls:
        REPLACE_SORTED_SET.pipelined(client(), calls)


def tag_pools(*, tag_ids: Sequence[int]) -> dict[int, dict[str, float]]:
    """The stored pools of ``tag_ids`` (tag id -> {video id: quality}); missing ones left out."""
    pipe = client().pipeline(transaction=False)
    for tag_id in tag_ids:
        pipe.zrange(TAG_POOL_KEY.format(tag_id=tag_id), 0, -1, withscores=True)
    return {
        tag_id: {text(member): float(score) for member, score in rows}
        for tag_id, rows in zip(tag_ids, pipe.execute(), strict=True)
        if rows
    }


def ranker_model(*, version: int) -> dict | None:
    """The For You ranker's fitted weights and the facts of their fit (``discovery.model``)."""
    raw = client().get(RANKER_MODEL_KEY.format(version=version))
    return json.loads(raw) if raw is not None else None


def publish_ranker_model(*, version: int, model: dict, keep_seconds: int) -> None:
    client().set(RANKER_MODEL_KEY.format(version=version), json.dumps(model), ex=keep_seconds)
