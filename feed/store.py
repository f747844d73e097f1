"""The only code that reads or writes feed keys in Redis.

Key layout (all in the LRU cache instance: everything here can be rebuilt from Postgres;
``{…}`` is a Redis Cluster hash tag, so one user's keys share a slot):

``feed:{<user_id>}``           sorted set: video id -> publish time (epoch microseconds),
                               capped at ``FEED_MAX_ITEMS`` newest
``feed:{<user_id>}:meta``      hash: ``built_at``; present means "this feed is built"
                               (an empty sorted set does not exist in Redis)
``feed:{<user_id>}:big``       set: ids of big creators the user follows (merged at read)
``feed:{<user_id>}:seen``      sorted set: video ids the user watched -> when, capped
``feed:{<user_id>}:lock``      string: held while one process rebuilds the feed
``feed:{<user_id>}:update-lock``  string: serialises follow merges/removals per user
``creator:{<creator_id>}:videos``  sorted set: a big creator's recent videos
``creators:big``               set: creators currently above the fan-out threshold
``trending:current``           string: the version of the trending set being served
``trending:v:<version>``       sorted set: video id -> trending score (kept a while, so
                               a client paging an older version still pages stably)
``trending:parts:<version>``   hash: video id -> JSON of the parts it was ranked by
``feed:stats``                 hash: hits, misses, rebuilds, degraded (for feed_stats)

A feed expires ``FEED_INACTIVE_DAYS`` after its last read, so fan-out (which only writes
to feeds that exist) skips long-inactive users; their feed is rebuilt when they return.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django_redis import get_redis_connection

FEED_KEY = "feed:{{{user_id}}}"
FEED_META_KEY = "feed:{{{user_id}}}:meta"
FEED_BIG_KEY = "feed:{{{user_id}}}:big"
FEED_SEEN_KEY = "feed:{{{user_id}}}:seen"
FEED_LOCK_KEY = "feed:{{{user_id}}}:lock"
FEED_UPDATE_LOCK_KEY = "feed:{{{user_id}}}:update-lock"
CREATOR_VIDEOS_KEY = "creator:{{{creator_id}}}:videos"
BIG_CREATORS_KEY = "creators:big"
TRENDING_CURRENT_KEY = "trending:current"
TRENDING_KEY = "trending:v:{version}"
TRENDING_PARTS_KEY = "trending:parts:{version}"
STATS_KEY = "feed:stats"


def client():
    return get_redis_connection("default")


def feed_ttl_seconds() -> int:
    return settings.FEED_INACTIVE_DAYS * 86400


@dataclass(frozen=True)
class Entry:
    """One feed item: a video id and its publish time in epoch microseconds."""

    score: int
    video_id: str

    def sort_key(self) -> tuple[int, str]:
        return (self.score, self.video_id)


# Add one video to many feeds, but only to feeds that exist (built and not expired),
# trimming each to the cap. KEYS: feed key, meta key, feed key, meta key, ...
_ADD_TO_EXISTING_FEEDS = """
local added = 0
for i = 1, #KEYS, 2 do
  if redis.call('EXISTS', KEYS[i + 1]) == 1 then
    redis.call('ZADD', KEYS[i], ARGV[1], ARGV[2])
    redis.call('ZREMRANGEBYRANK', KEYS[i], 0, -(tonumber(ARGV[3]) + 1))
    added = added + 1
  end
end
return added
"""

# One round trip for a page: whether the feed is built, its entries below the cursor, the
# matching entries of every big creator the user follows, and which of them the user has
# already watched. It counts the read as a hit, and on the first read of a day renews the
# feed's expiry and says so (touch = 1), so the caller records the user as active. (It
# reads creator and stats keys it is not given in KEYS: fine on one Redis; on Redis
# Cluster those would need a second call.)
# KEYS: feed, meta, big, seen; ARGV: max score (inclusive, or +inf), count, creator key
# template, ttl seconds, today, stats key.
_READ_PAGE = """
local built = redis.call('EXISTS', KEYS[2])
local own = redis.call('ZREVRANGEBYSCORE', KEYS[1], ARGV[1], '-inf', 'WITHSCORES', 'LIMIT', 0, ARGV[2])
local creators = redis.call('SMEMBERS', KEYS[3])
local merged = {}
for _, creator in ipairs(creators) do
  local key = string.gsub(ARGV[3], '<id>', creator)
  local rows = redis.call('ZREVRANGEBYSCORE', key, ARGV[1], '-inf', 'WITHSCORES', 'LIMIT', 0, ARGV[2])
  for _, value in ipairs(rows) do table.insert(merged, value) end
end
local seen = {}
for _, rows in ipairs({own, merged}) do
  for i = 1, #rows, 2 do
    if redis.call('ZSCORE', KEYS[4], rows[i]) then table.insert(seen, rows[i]) end
  end
end
local touch = 0
if built == 1 then
  redis.call('HINCRBY', ARGV[6], 'hits', 1)
  if redis.call('HGET', KEYS[2], 'read_day') ~= ARGV[5] then
    redis.call('HSET', KEYS[2], 'read_day', ARGV[5])
    for i = 1, 4 do redis.call('EXPIRE', KEYS[i], ARGV[4]) end
    touch = 1
  end
end
return {built, own, merged, touch, seen}
"""


_scripts: dict[tuple[int, str], object] = {}


def _script(source: str):
    """A registered Lua script (EVALSHA, loaded on first use) for the current client."""
    redis_client = client()
    key = (id(redis_client), source)
    script = _scripts.get(key)
    if script is None:
        script = _scripts[key] = redis_client.register_script(source)
    return script


def _pairs(flat: Sequence) -> list[Entry]:
    return [Entry(score=int(float(flat[i + 1])), video_id=_text(flat[i])) for i in range(0, len(flat), 2)]


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def read_page(
    *, user_id: int, max_score: int | None, count: int, today: str
) -> tuple[bool, list[Entry], bool, set[str]]:
    """Entries with score <= ``max_score`` from the user's feed and followed big creators.

    Returns (built, entries newest first and deduplicated, first read today, ids among
    them the user has already watched). ``built`` is False when the feed must be rebuilt.
    """
    creator_template = CREATOR_VIDEOS_KEY.format(creator_id="<id>")
    built, own, merged, touch, seen = _script(_READ_PAGE)(
        keys=[
            FEED_KEY.format(user_id=user_id),
            FEED_META_KEY.format(user_id=user_id),
            FEED_BIG_KEY.format(user_id=user_id),
            FEED_SEEN_KEY.format(user_id=user_id),
        ],
        args=[
            "+inf" if max_score is None else max_score,
            count,
            creator_template,
            feed_ttl_seconds(),
            today,
            STATS_KEY,
        ],
    )
    entries = {entry.video_id: entry for entry in _pairs(own) + _pairs(merged)}
    ordered = sorted(entries.values(), key=Entry.sort_key, reverse=True)
    return bool(built), ordered, bool(touch), {_text(video_id) for video_id in seen}


def write_feed(*, user_id: int, entries: Iterable[Entry], big_creator_ids: Iterable[int]) -> None:
    """Replace a user's feed (a rebuild), atomically."""
    feed_key = FEED_KEY.format(user_id=user_id)
    meta_key = FEED_META_KEY.format(user_id=user_id)
    big_key = FEED_BIG_KEY.format(user_id=user_id)
    ttl = feed_ttl_seconds()
    mapping = {entry.video_id: entry.score for entry in entries}
    big = [str(creator_id) for creator_id in big_creator_ids]
    pipe = client().pipeline(transaction=True)
    pipe.delete(feed_key, big_key)
    if mapping:
        pipe.zadd(feed_key, mapping)
        pipe.zremrangebyrank(feed_key, 0, -(settings.FEED_MAX_ITEMS + 1))
        pipe.expire(feed_key, ttl)
    if big:
        pipe.sadd(big_key, *big)
        pipe.expire(big_key, ttl)
    pipe.hset(meta_key, mapping={"built_at": time.time()})
    pipe.expire(meta_key, ttl)
    pipe.execute()


def feed_exists(*, user_id: int) -> bool:
    return bool(client().exists(FEED_META_KEY.format(user_id=user_id)))


def add_to_feeds(*, user_ids: Sequence[int], entry: Entry) -> int:
    """Fan-out: add one entry to each existing feed among ``user_ids``; returns how many."""
    if not user_ids:
        return 0
    keys: list[str] = []
    for user_id in user_ids:
        keys += [FEED_KEY.format(user_id=user_id), FEED_META_KEY.format(user_id=user_id)]
    return int(_script(_ADD_TO_EXISTING_FEEDS)(keys=keys, args=[entry.score, entry.video_id, settings.FEED_MAX_ITEMS]))


def merge_into_feed(*, user_id: int, entries: Sequence[Entry]) -> None:
    """Add entries to one user's feed if it is built (follow backfill)."""
    if not entries:
        return
    keys = [FEED_KEY.format(user_id=user_id), FEED_META_KEY.format(user_id=user_id)]
    script = _script(_ADD_TO_EXISTING_FEEDS)
    pipe = client().pipeline(transaction=False)
    for entry in entries:
        script(keys=keys, args=[entry.score, entry.video_id, settings.FEED_MAX_ITEMS], client=pipe)
    pipe.execute()


def remove_from_feed(*, user_id: int, video_ids: Sequence[str]) -> None:
    if video_ids:
        client().zrem(FEED_KEY.format(user_id=user_id), *video_ids)


def remove_from_feeds(*, user_ids: Sequence[int], video_id: str) -> None:
    pipe = client().pipeline(transaction=False)
    for user_id in user_ids:
        pipe.zrem(FEED_KEY.format(user_id=user_id), video_id)
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
    key = CREATOR_VIDEOS_KEY.format(creator_id=creator_id)
    pipe = client().pipeline(transaction=True)
    pipe.zadd(key, {entry.video_id: entry.score})
    pipe.zremrangebyrank(key, 0, -(keep + 1))
    pipe.execute()


def set_creator_videos(*, creator_id: int, entries: Sequence[Entry], keep: int) -> None:
    key = CREATOR_VIDEOS_KEY.format(creator_id=creator_id)
    pipe = client().pipeline(transaction=True)
    pipe.delete(key)
    if entries:
        pipe.zadd(key, {entry.video_id: entry.score for entry in entries})
        pipe.zremrangebyrank(key, 0, -(keep + 1))
    pipe.execute()


def remove_creator_video(*, creator_id: int, video_id: str) -> None:
    client().zrem(CREATOR_VIDEOS_KEY.format(creator_id=creator_id), video_id)


def acquire_rebuild_lock(*, user_id: int, seconds: float) -> bool:
    return bool(client().set(FEED_LOCK_KEY.format(user_id=user_id), "1", nx=True, px=int(seconds * 1000)))


def release_rebuild_lock(*, user_id: int) -> None:
    client().delete(FEED_LOCK_KEY.format(user_id=user_id))


def feed_update_lock(*, user_id: int, seconds: float = 30.0):
    """A lock (context manager) that serialises follow merges and removals for one user."""
    return client().lock(FEED_UPDATE_LOCK_KEY.format(user_id=user_id), timeout=seconds, blocking_timeout=seconds)


def mark_seen(*, user_id: int, video_id: str) -> None:
    """Remember a watched video, keeping only the newest ``FEED_SEEN_MAX`` per user."""
    key = FEED_SEEN_KEY.format(user_id=user_id)
    pipe = client().pipeline(transaction=False)
    pipe.zadd(key, {video_id: time.time()})
    pipe.zremrangebyrank(key, 0, -(settings.FEED_SEEN_MAX + 1))
    pipe.expire(key, feed_ttl_seconds())
    pipe.execute()


def seen_among(*, user_id: int, video_ids: Sequence[str]) -> set[str]:
    if not video_ids:
        return set()
    scores = client().zmscore(FEED_SEEN_KEY.format(user_id=user_id), list(video_ids))
    return {video_id for video_id, score in zip(video_ids, scores, strict=True) if score is not None}


def feeds_containing(*, user_ids: Sequence[int], video_id: str) -> int:
    """How many of the users' feeds hold ``video_id`` (pipelined ZSCORE; checks and bench)."""
    found = 0
    for start in range(0, len(user_ids), 10_000):
        pipe = client().pipeline(transaction=False)
        for user_id in user_ids[start : start + 10_000]:
            pipe.zscore(FEED_KEY.format(user_id=user_id), video_id)
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
    return {_text(key): int(value) for key, value in client().hgetall(STATS_KEY).items()}


# --- trending ------------------------------------------------------------------------


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
    return _text(value) if value is not None else None


def trending_page(*, version: str, offset: int, count: int) -> tuple[list[tuple[str, float, dict]], bool]:
    """A slice of one trending version with each item's rank parts; (items, version_exists)."""
    key = TRENDING_KEY.format(version=version)
    pipe = client().pipeline(transaction=False)
    pipe.exists(key)
    pipe.zrevrange(key, offset, offset + count - 1, withscores=True)
    exists, rows = pipe.execute()
    if not rows:
        return [], bool(exists)
    ids = [_text(member) for member, _ in rows]
    parts = client().hmget(TRENDING_PARTS_KEY.format(version=version), ids)
    return [
        (video_id, float(score), json.loads(part) if part else {})
        for video_id, (_, score), part in zip(ids, rows, parts, strict=True)
    ], True


def remove_from_trending(*, video_id: str) -> None:
    version = current_trending_version()
    if version:
        client().zrem(TRENDING_KEY.format(version=version), video_id)
