"""The only code that reads or writes feed keys in Redis (trending: ``trending_store.py``).

Key layout (all in the LRU cache instance: everything here can be rebuilt from Postgres;
``{…}`` is a Redis Cluster hash tag, so one user's keys share a slot):

``feed:{<user_id>}``           sorted set: video id -> publish time (epoch microseconds),
                               capped at ``FEED_MAX_ITEMS`` newest
``feed:{<user_id>}:meta``      hash: ``built_at``, ``read_day``, ``floor`` (the highest
                               score trimmed away: below it pages continue in SQL);
                               present means "this feed is built" (an empty sorted set
                               does not exist in Redis)
``feed:{<user_id>}:big``       set: ids of big creators the user follows (merged at read)
``feed:{<user_id>}:seen``      sorted set: video ids the user watched -> when, capped
``feed:{<user_id>}:lock``      string: held while one process rebuilds the feed
``feed:{<user_id>}:update-lock``  string: serialises follow merges/removals per user
``creator:{<creator_id>}:videos``  sorted set: a big creator's recent videos
``creator:{<creator_id>}:floor``   string: the highest score trimmed from that set
``creators:big``               set: creators currently above the fan-out threshold
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
from redis.cluster import RedisCluster

from feed import scripts

# What an unavailable cache Redis raises: readers fall back to SQL, writers retry.
REDIS_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, redis.exceptions.BusyLoadingError)

FEED_KEY = "feed:{{{user_id}}}"
FEED_META_KEY = "feed:{{{user_id}}}:meta"
FEED_BIG_KEY = "feed:{{{user_id}}}:big"
FEED_SEEN_KEY = "feed:{{{user_id}}}:seen"
FEED_LOCK_KEY = "feed:{{{user_id}}}:lock"
FEED_UPDATE_LOCK_KEY = "feed:{{{user_id}}}:update-lock"
CREATOR_VIDEOS_KEY = "creator:{{{creator_id}}}:videos"
# The highest score trimmed from a creator's set (absent: the set holds all their videos).
CREATOR_FLOOR_KEY = "creator:{{{creator_id}}}:floor"
BIG_CREATORS_KEY = "creators:big"
STATS_KEY = "feed:stats"


def client():
    return get_redis_connection("default")


def _is_cluster() -> bool:  # there a script may touch only its KEYS, all in one slot
    return isinstance(client(), RedisCluster)


def feed_ttl_seconds() -> int:
    return settings.FEED_INACTIVE_DAYS * 86400


@dataclass(frozen=True)
class Entry:
    """One feed item: a video id and its publish time in epoch microseconds."""

    score: int
    video_id: str

    def sort_key(self) -> tuple[int, str]:
        return (self.score, self.video_id)


_scripts: dict[tuple[int, str], object] = {}


def _script(source: str):
    """A registered Lua script (EVALSHA, loaded on first use) for the current client."""
    redis_client = client()
    key = (id(redis_client), source)
    script = _scripts.get(key)
    if script is None:
        script = _scripts[key] = redis_client.register_script(source)
    return script


def _pipelined(source: str, calls: Sequence[tuple[list, list]], *, retry: bool = True) -> list:
    """One script call per (keys, args), pipelined. A cluster pipeline does not load scripts
    (nor allow ``evalsha()``: the raw command routes by its keys): on NOSCRIPT the script
    is loaded and the (idempotent) calls run again."""
    script, cluster = _script(source), _is_cluster()
    pipe = client().pipeline(transaction=False)
    for keys, args in calls:
        if cluster:
            pipe.execute_command("EVALSHA", script.sha, len(keys), *keys, *args)
        else:
            script(keys=keys, args=args, client=pipe)
    try:
        return pipe.execute()
    except redis.exceptions.NoScriptError:
        if not retry:
            raise
        client().script_load(source)
        return _pipelined(source, calls, retry=False)


def _pairs(flat: Sequence) -> list[Entry]:
    return [Entry(score=int(float(flat[i + 1])), video_id=_text(flat[i])) for i in range(0, len(flat), 2)]


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass(frozen=True)
class PageRead:
    """What one ``read_page`` call found."""

    built: bool  # False: the feed must be rebuilt
    entries: list[Entry]  # newest first, deduplicated
    touch: bool  # first read today
    seen: set[str]  # ids among ``entries`` the user has already watched
    floor: int  # entries are exact above this score; 0: exact all the way down
    cut: int  # below this score a source may hold entries not returned; 0: none cut
    # video id -> (cached card value or None, flag bits "lfu" or "" when unknown), for the
    # entries the page will most likely take (see ``scripts.READ_PAGE``); may be empty.
    cards: dict[str, tuple[bytes | None, str]] = field(default_factory=dict)
    flags_built: bool = False  # the viewer's flags hash was complete


@dataclass(frozen=True)
class CardRequest:
    """Ask ``read_page`` for the page's cards and flags too (keys owned by videos/activity)."""

    card_key_template: str  # with "<id>" for the video id
    flags_key: str
    wanted: int  # public cards wanted
    before_member: str = ""  # the cursor's member ("": first page)


def read_page(
    *, user_id: int, max_score: int | None, count: int, today: str, cards: CardRequest | None = None
) -> PageRead:
    """Entries with score <= ``max_score`` from the user's feed and followed big creators
    (and, with ``cards``, the cards and flags of the entries a page takes, same call)."""
    if _is_cluster():
        return _read_page_by_slot(user_id=user_id, max_score=max_score, count=count, today=today)
    card_args = ["", "", 0, ""]
    if cards is not None:
        card_args = [cards.card_key_template, cards.flags_key, cards.wanted, cards.before_member]
    built, own, merged, touch, seen, floor, cut, found, flags_built = _script(scripts.READ_PAGE)(
        keys=[
            FEED_KEY.format(user_id=user_id),
            FEED_META_KEY.format(user_id=user_id),
            FEED_BIG_KEY.format(user_id=user_id),
            FEED_SEEN_KEY.format(user_id=user_id),
        ],
        args=[
            "+inf" if max_score is None else max_score,
            count,
            CREATOR_VIDEOS_KEY.format(creator_id="<id>"),
            feed_ttl_seconds(),
            today,
            STATS_KEY,
            CREATOR_FLOOR_KEY.format(creator_id="<id>"),
            *card_args,
        ],
    )
    entries = {entry.video_id: entry for entry in _pairs(own) + _pairs(merged)}
    return PageRead(
        built=bool(built),
        entries=sorted(entries.values(), key=Entry.sort_key, reverse=True),
        touch=bool(touch),
        seen={_text(video_id) for video_id in seen},
        floor=int(float(_text(floor))),
        cut=int(float(_text(cut))),
        cards={_text(found[i]): (found[i + 1] or None, _text(found[i + 2])) for i in range(0, len(found), 3)},
        flags_built=bool(flags_built),
    )


def _read_page_by_slot(*, user_id: int, max_score: int | None, count: int, today: str) -> PageRead:
    """``read_page`` on Redis Cluster: own keys in one script, creators' sets pipelined."""
    top = "+inf" if max_score is None else max_score
    built, own, creators, touch, seen, floor = _script(scripts.READ_OWN_PAGE)(
        keys=[key.format(user_id=user_id) for key in (FEED_KEY, FEED_META_KEY, FEED_BIG_KEY, FEED_SEEN_KEY)],
        args=[top, count, feed_ttl_seconds(), today],
    )
    sources = [_pairs(own)]
    floor = int(float(_text(floor)))
    pipe = client().pipeline(transaction=False)
    for creator in creators:
        key = CREATOR_VIDEOS_KEY.format(creator_id=_text(creator))
        pipe.zrevrangebyscore(key, top, "-inf", start=0, num=count, withscores=True)
        pipe.get(CREATOR_FLOOR_KEY.format(creator_id=_text(creator)))
    if built:
        pipe.hincrby(STATS_KEY, "hits", 1)
    results = pipe.execute()
    for index in range(len(creators)):
        rows, creator_floor = results[2 * index], results[2 * index + 1]
        sources.append([Entry(score=int(score), video_id=_text(member)) for member, score in rows])
        floor = max(floor, int(float(_text(creator_floor or "0"))))
    cuts = [rows[-1].score for rows in sources if count and len(rows) == count]
    merged_ids = [entry.video_id for rows in sources[1:] for entry in rows]
    seen_ids = {_text(video_id) for video_id in seen} | seen_among(user_id=user_id, video_ids=merged_ids)
    entries = sorted({e.video_id: e for rows in sources for e in rows}.values(), key=Entry.sort_key, reverse=True)
    cut = max(cuts, default=0)
    return PageRead(built=bool(built), entries=entries, touch=bool(touch), seen=seen_ids, floor=floor, cut=cut)


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
        pairs += [entry.score, entry.video_id]
    return int(
        _script(scripts.WRITE_FEED)(
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
    """Fan-out: add one entry to each existing feed among ``user_ids``; returns how many."""
    if not user_ids:
        return 0
    if _is_cluster():  # one script call per user: each user's keys share one slot
        args = [entry.score, entry.video_id, settings.FEED_MAX_ITEMS]
        calls = [([FEED_KEY.format(user_id=u), FEED_META_KEY.format(user_id=u)], args) for u in user_ids]
        return sum(int(added) for added in _pipelined(scripts.ADD_TO_EXISTING_FEEDS, calls))
    keys: list[str] = []
    for user_id in user_ids:
        keys += [FEED_KEY.format(user_id=user_id), FEED_META_KEY.format(user_id=user_id)]
    script = _script(scripts.ADD_TO_EXISTING_FEEDS)
    return int(script(keys=keys, args=[entry.score, entry.video_id, settings.FEED_MAX_ITEMS]))


def merge_into_feed(*, user_id: int, entries: Sequence[Entry]) -> None:
    """Add entries to one user's feed if it is built (follow backfill)."""
    if not entries:
        return
    keys = [FEED_KEY.format(user_id=user_id), FEED_META_KEY.format(user_id=user_id)]
    calls = [(keys, [entry.score, entry.video_id, settings.FEED_MAX_ITEMS]) for entry in entries]
    _pipelined(scripts.ADD_TO_EXISTING_FEEDS, calls)


def merge_into_feeds(*, user_ids: Sequence[int], entries: Sequence[Entry]) -> None:
    """Add entries to each built feed among ``user_ids`` (a creator's videos restored)."""
    if not entries or not user_ids:
        return
    cap = settings.FEED_MAX_ITEMS
    calls = [
        ([FEED_KEY.format(user_id=user_id), FEED_META_KEY.format(user_id=user_id)], [entry.score, entry.video_id, cap])
        for user_id in user_ids
        for entry in entries
    ]
    _pipelined(scripts.ADD_TO_EXISTING_FEEDS, calls)


def remove_many_from_feeds(*, user_ids: Sequence[int], video_ids: Sequence[str]) -> None:
    """Remove a creator's videos from each feed among ``user_ids`` (creator suspended)."""
    if not video_ids or not user_ids:
        return
    pipe = client().pipeline(transaction=False)
    for user_id in user_ids:
        pipe.zrem(FEED_KEY.format(user_id=user_id), *video_ids)
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
    _script(scripts.ADD_CREATOR_VIDEO)(
        keys=[CREATOR_VIDEOS_KEY.format(creator_id=creator_id), CREATOR_FLOOR_KEY.format(creator_id=creator_id)],
        args=[entry.score, entry.video_id, keep],
    )


def set_creator_videos(*, creator_id: int, entries: Sequence[Entry], keep: int) -> None:
    """Replace a big creator's set with their newest videos (``entries``, newest first, at
    most ``keep``: when there are ``keep`` of them, older ones may exist below the floor)."""
    key = CREATOR_VIDEOS_KEY.format(creator_id=creator_id)
    floor_key = CREATOR_FLOOR_KEY.format(creator_id=creator_id)
    pipe = client().pipeline(transaction=True)
    pipe.delete(key, floor_key)
    if entries:
        pipe.zadd(key, {entry.video_id: entry.score for entry in entries})
        pipe.zremrangebyrank(key, 0, -(keep + 1))
        if len(entries) >= keep:
            pipe.set(floor_key, min(entry.score for entry in entries[:keep]))
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
