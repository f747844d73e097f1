"""The only code that reads or writes feed keys in Redis (a page read: ``page_store.py``;
trending: ``trending_store.py``).

Key layout (all in the LRU cache instance: everything here can be rebuilt from Postgres;
``{…}`` is a Redis Cluster hash tag, so one user's keys share a slot). Members are feed ids
(small integers: listpack stores them in a few bytes; the public UUIDs stay the API's ids).
Every key holding members carries ``v2`` (members were UUIDs before): keys written in the
old format are never read and expire; readers rebuild.

``feed:v2:{<user_id>}``        sorted set: feed id (``Video.feed_id``, an integer) -> publish
                               time (epoch microseconds), capped at ``FEED_MAX_ITEMS`` newest
``feed:v2:{<user_id>}:meta``   hash: ``built_at``, ``read_day``, ``floor`` (the highest
                               score trimmed away: below it pages continue in SQL);
                               present means "this feed is built" (an empty sorted set
                               does not exist in Redis)
``feed:v2:{<user_id>}:big``    set: ids of big creators the user follows (merged at read)
``feed:v2:{<user_id>}:seen``   sorted set: feed ids the user watched -> when, capped
``feed:v2:{<user_id>}:lock``   string: held while one process rebuilds the feed
``feed:v2:{<user_id>}:update-lock``  string: serialises follow merges/removals per user
``creator:v2:{<creator_id>}:videos``  sorted set: a big creator's recent videos (feed ids)
``creator:v2:{<creator_id>}:floor``   string: the highest score trimmed from that set
``creators:v2:big``            set: creators above the fan-out threshold (their set is seeded)
``trending:{trending}:*``      the trending versions: ``feed/trending_store.py``
``feed:stats``                 hash: hits, misses, rebuilds, degraded (for feed_stats)

A feed expires ``FEED_INACTIVE_DAYS`` after its last read, so fan-out (which only writes
to feeds that exist) skips long-inactive users; their feed is rebuilt when they return.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import redis.exceptions
from django.conf import settings
from django_redis import get_redis_connection

from tiktok import redis_scripts

# What an unavailable cache Redis raises: readers fall back to SQL, writers retry.
REDIS_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, redis.exceptions.BusyLoadingError)

FEED_KEY = "feed:v2:{{{user_id}}}"
FEED_META_KEY = "feed:v2:{{{user_id}}}:meta"
FEED_BIG_KEY = "feed:v2:{{{user_id}}}:big"
FEED_SEEN_KEY = "feed:v2:{{{user_id}}}:seen"
FEED_LOCK_KEY = "feed:v2:{{{user_id}}}:lock"
FEED_UPDATE_LOCK_KEY = "feed:v2:{{{user_id}}}:update-lock"
CREATOR_VIDEOS_KEY = "creator:v2:{{{creator_id}}}:videos"
# The highest score trimmed from a creator's set (absent: the set holds all their videos).
CREATOR_FLOOR_KEY = "creator:v2:{{{creator_id}}}:floor"
# Versioned with the creators' sets: a creator known as big has a set in the current format.
BIG_CREATORS_KEY = "creators:v2:big"
STATS_KEY = "feed:stats"
# Feeds per fan-out script call: about 2 ms of Redis time each (1.8 us a feed, measured),
# so a fan-out batch of any size never holds Redis for long (its calls are pipelined).
FANOUT_FEEDS_PER_SCRIPT = 1000


def client():
    return get_redis_connection("default")


def is_cluster() -> bool:
    """Whether the cache Redis is a Redis Cluster (there a script may touch only its KEYS,
    all in one slot)."""
    return redis_scripts.is_cluster(client())


def feed_ttl_seconds() -> int:
    return settings.FEED_INACTIVE_DAYS * 86400


@dataclass(frozen=True)
class Entry:
    """One feed item: its publish time in epoch microseconds and the video's feed id (the
    member). Feeds are ordered by (score, feed_id), newest first, everywhere."""

    score: int
    feed_id: int
    # The public id, when the entry was read from SQL (Redis holds only feed ids).
    video_id: str = field(default="", compare=False)

    def sort_key(self) -> tuple[int, int]:
        return (self.score, self.feed_id)


# The Lua scripts that write these keys (``feed/scripts/*.lua``; the page's in ``page_store``).
WRITE_FEED = redis_scripts.load_redis_script("feed", "write_feed.lua")
ADD_TO_EXISTING_FEEDS = redis_scripts.load_redis_script("feed", "add_to_existing_feeds.lua")
ADD_CREATOR_VIDEO = redis_scripts.load_redis_script("feed", "add_creator_video.lua")


def pairs(flat: Sequence) -> list[Entry]:
    return [Entry(score=int(float(flat[i + 1])), feed_id=int(flat[i])) for i in range(0, len(flat), 2)]


def text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def write_feed(
    *,
    user_id: int,
    entries: Sequence[Entry],
    big_creator_ids: Iterable[int],
    floor: int = 0,
    keep_from: int | None = None,
) -> int:
    """Replace a user's feed (a rebuild), atomically; returns its size.

    ``floor``: the entries are exact above this score (the rebuild's query was cut at the
    cap), 0 if they are all there is. Entries already in the feed with a score at or
    above ``keep_from`` (added by fan-out while the rebuild read the database) are kept.
    """
    big = [str(creator_id) for creator_id in big_creator_ids]
    pairs: list = []
    for entry in entries:
        pairs += [entry.score, entry.feed_id]
    return int(
        WRITE_FEED(
            client(),
            keys=[
                FEED_KEY.format(user_id=user_id),
                FEED_META_KEY.format(user_id=user_id),
                FEED_BIG_KEY.format(user_id=user_id),
            ],
            args=[
                "+inf" if keep_from is None else keep_from,
                settings.FEED_MAX_ITEMS,
                feed_ttl_seconds(),
                floor,
                time.time(),
                len(big),
                *big,
                *pairs,
            ],
        )
    )


def feed_exists(*, user_id: int) -> bool:
    return bool(client().exists(FEED_META_KEY.format(user_id=user_id)))


def add_to_feeds(*, user_ids: Sequence[int], entry: Entry) -> int:
    """Fan-out: add one entry to each existing feed among ``user_ids``; returns how many.

    One round trip: the script calls are pipelined, each over at most
    ``FANOUT_FEEDS_PER_SCRIPT`` feeds (one user's on Redis Cluster, where a script's keys
    share a slot), so no single call holds Redis for long."""
    args = [entry.score, entry.feed_id, settings.FEED_MAX_ITEMS]
    per_call = 1 if is_cluster() else FANOUT_FEEDS_PER_SCRIPT
    calls = []
    for start in range(0, len(user_ids), per_call):
        keys: list[str] = []
        for user_id in user_ids[start : start + per_call]:
            keys += [FEED_KEY.format(user_id=user_id), FEED_META_KEY.format(user_id=user_id)]
        calls.append((keys, args))
    return sum(int(added) for added in ADD_TO_EXISTING_FEEDS.pipelined(client(), calls))


def merge_into_feed(*, user_id: int, entries: Sequence[Entry]) -> None:
    """Add entries to one user's feed if it is built (follow backfill)."""
    if not entries:
        return
    keys = [FEED_KEY.format(user_id=user_id), FEED_META_KEY.format(user_id=user_id)]
    calls = [(keys, [entry.score, entry.feed_id, settings.FEED_MAX_ITEMS]) for entry in entries]
    ADD_TO_EXISTING_FEEDS.pipelined(client(), calls)


def merge_into_feeds(*, user_ids: Sequence[int], entries: Sequence[Entry]) -> None:
    """Add entries to each built feed among ``user_ids`` (a creator's videos restored)."""
    if not entries or not user_ids:
        return
    cap = settings.FEED_MAX_ITEMS
    calls = [
        ([FEED_KEY.format(user_id=user_id), FEED_META_KEY.format(user_id=user_id)], [entry.score, entry.feed_id, cap])
        for user_id in user_ids
        for entry in entries
    ]
    ADD_TO_EXISTING_FEEDS.pipelined(client(), calls)


def remove_many_from_feeds(*, user_ids: Sequence[int], feed_ids: Sequence[int]) -> None:
    """Remove a creator's videos from each feed among ``user_ids`` (creator suspended)."""
    if not feed_ids or not user_ids:
        return
    pipe = client().pipeline(transaction=False)
    for user_id in user_ids:
        pipe.zrem(FEED_KEY.format(user_id=user_id), *feed_ids)
    pipe.execute()


def remove_from_feed(*, user_id: int, feed_ids: Sequence[int]) -> None:
    if feed_ids:
        client().zrem(FEED_KEY.format(user_id=user_id), *feed_ids)


def remove_from_feeds(*, user_ids: Sequence[int], feed_id: int) -> None:
    pipe = client().pipeline(transaction=False)
    for user_id in user_ids:
        pipe.zrem(FEED_KEY.format(user_id=user_id), feed_id)
    pipe.execute()


def set_follows_big_creator(*, user_ids: Sequence[int], creator_id: int, following: bool) -> None:
    """Record (or forget) that users follow a big creator, for feeds that are built."""
    pipe = client().pipeline(transaction=False)
    for user_id in user_ids:
        key = FEED_BIG_KEY.format(user_id=user_id)
        if following:
            pipe.sadd(key, creator_id)
            pipe.expire(key, feed_ttl_seconds())
        else:
            pipe.srem(key, creator_id)
    pipe.execute()


def is_big_creator_known(*, creator_id: int) -> bool:
    return bool(client().sismember(BIG_CREATORS_KEY, creator_id))


def mark_big_creator(*, creator_id: int) -> None:
    client().sadd(BIG_CREATORS_KEY, creator_id)


def add_creator_video(*, creator_id: int, entry: Entry, keep: int) -> None:
    ADD_CREATOR_VIDEO(
        client(),
        keys=[CREATOR_VIDEOS_KEY.format(creator_id=creator_id), CREATOR_FLOOR_KEY.format(creator_id=creator_id)],
        args=[entry.score, entry.feed_id, keep],
    )


def set_creator_videos(*, creator_id: int, entries: Sequence[Entry], keep: int) -> None:
    """Replace a big creator's set with their newest videos (``entries``, newest first, at
    most ``keep``: when there are ``keep`` of them, older ones may exist below the floor)."""
    key = CREATOR_VIDEOS_KEY.format(creator_id=creator_id)
    floor_key = CREATOR_FLOOR_KEY.format(creator_id=creator_id)
    pipe = client().pipeline(transaction=True)
    pipe.delete(key, floor_key)
    if entries:
        pipe.zadd(key, {entry.feed_id: entry.score for entry in entries})
        pipe.zremrangebyrank(key, 0, -(keep + 1))
        if len(entries) >= keep:
            pipe.set(floor_key, min(entry.score for entry in entries[:keep]))
    pipe.execute()


def remove_creator_video(*, creator_id: int, feed_id: int) -> None:
    client().zrem(CREATOR_VIDEOS_KEY.format(creator_id=creator_id), feed_id)


def acquire_rebuild_lock(*, user_id: int, seconds: float) -> bool:
    return bool(client().set(FEED_LOCK_KEY.format(user_id=user_id), "1", nx=True, px=int(seconds * 1000)))


def release_rebuild_lock(*, user_id: int) -> None:
    client().delete(FEED_LOCK_KEY.format(user_id=user_id))


def feed_update_lock(*, user_id: int, seconds: float = 30.0):
    """A lock (context manager) that serialises follow merges and removals for one user."""
    return client().lock(FEED_UPDATE_LOCK_KEY.format(user_id=user_id), timeout=seconds, blocking_timeout=seconds)


def mark_seen(*, user_id: int, feed_id: int) -> None:
    """Remember a watched video, keeping only the newest ``FEED_SEEN_MAX`` per user.

    Scored by whole seconds (enough to trim the oldest): listpack stores an integer score
    in 5 bytes, a fractional one as ~18 characters (12 B per entry instead of 29)."""
    key = FEED_SEEN_KEY.format(user_id=user_id)
    pipe = client().pipeline(transaction=False)
    pipe.zadd(key, {feed_id: int(time.time())})
    pipe.zremrangebyrank(key, 0, -(settings.FEED_SEEN_MAX + 1))
    pipe.expire(key, feed_ttl_seconds())
    pipe.execute()


def seen_among(*, user_id: int, feed_ids: Sequence[int]) -> set[int]:
    if not feed_ids:
        return set()
    scores = client().zmscore(FEED_SEEN_KEY.format(user_id=user_id), list(feed_ids))
    return {feed_id for feed_id, score in zip(feed_ids, scores, strict=True) if score is not None}


def feeds_containing(*, user_ids: Sequence[int], feed_id: int) -> int:
    """How many of the users' feeds hold ``feed_id`` (pipelined ZSCORE; checks and bench)."""
    found = 0
    for start in range(0, len(user_ids), 10_000):
        pipe = client().pipeline(transaction=False)
        for user_id in user_ids[start : start + 10_000]:
            pipe.zscore(FEED_KEY.format(user_id=user_id), feed_id)
        found += sum(score is not None for score in pipe.execute())
    return found


def feed_size(*, user_id: int) -> int:
    return int(client().zcard(FEED_KEY.format(user_id=user_id)))


def feed_memory_bytes(*, user_id: int) -> int | None:
    return client().memory_usage(FEED_KEY.format(user_id=user_id), samples=0)


def count(event: str, amount: int = 1) -> None:
    """Count a feed event (hits, misses, rebuilds, degraded) for ``feed_stats``."""
    client().hincrby(STATS_KEY, event, amount)


def stats() -> dict[str, int]:
    return {text(key): int(value) for key, value in client().hgetall(STATS_KEY).items()}
