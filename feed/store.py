"""The only code that reads or writes feed keys in Redis (trending: ``trending_store.py``).

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
from redis.cluster import RedisCluster

from feed import scripts

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


def _is_cluster() -> bool:  # there a script may touch only its KEYS, all in one slot
    return isinstance(client(), RedisCluster)


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
    return [Entry(score=int(float(flat[i + 1])), feed_id=int(flat[i])) for i in range(0, len(flat), 2)]


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass(frozen=True)
class PageRead:
    """What one ``read_page`` call found."""

    built: bool  # False: the feed must be rebuilt
    entries: list[Entry]  # newest first, deduplicated
    touch: bool  # first read today
    seen: set[int]  # feed ids among ``entries`` the user has already watched
    floor: int  # entries are exact above this score; 0: exact all the way down
    cut: int  # below this score a source may hold entries not returned; 0: none cut
    # feed id -> (cached card value or None, flag bits "lfu" or "" when unknown), for the
    # entries the page will most likely take (see ``scripts.READ_PAGE``); may be empty.
    cards: dict[int, tuple[bytes | None, str]] = field(default_factory=dict)
    flags_built: bool = False  # the viewer's flags hash was complete
    # Members of the viewer's hidden-users set when the request named it (``[]``: not
    # cached), None when not read (``activity.relations.hidden_users`` reads it then).
    hidden_members: list[bytes] | None = None


@dataclass(frozen=True)
class CardRequest:
    """Ask ``read_page`` for the page's cards and flags too (keys owned by videos/activity).

    ``flags_key`` must carry the user's hash tag (one slot with their feed keys)."""

    card_key_template: str  # with "<id>" for the feed id
    flags_key: str
    wanted: int  # public cards wanted
    before: Entry | None = None  # the cursor's entry (None: first page)
    hidden_key: str = ""  # the viewer's hidden-users set (same slot), read in the same call
    # Rows first read from each followed big creator's set; the page script reads more as its
    # merge needs them (``scripts.READ_PAGE``), so a small first read stays exact.
    creator_batch: int = 4


def read_page(
    *, user_id: int, max_score: int | None, count: int, today: str, cards: CardRequest | None = None
) -> PageRead:
    """Entries with score <= ``max_score`` from the user's feed and followed big creators
    (and, with ``cards``, the cards and flags of the entries a page takes, same call)."""
    if _is_cluster():
        return _read_page_by_slot(user_id=user_id, max_score=max_score, count=count, today=today, cards=cards)
    card_args = ["", "", 0, ""]
    if cards is not None:
        before_member = "" if cards.before is None else cards.before.feed_id
        card_args = [cards.card_key_template, cards.flags_key, cards.wanted, before_member, cards.creator_batch]
    hidden_keys = [cards.hidden_key] if cards is not None and cards.hidden_key else []
    built, own, merged, touch, seen, floor, cut, found, flags_built, hidden = _script(scripts.READ_PAGE)(
        keys=[
            FEED_KEY.format(user_id=user_id),
            FEED_META_KEY.format(user_id=user_id),
            FEED_BIG_KEY.format(user_id=user_id),
            FEED_SEEN_KEY.format(user_id=user_id),
            *hidden_keys,
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
    entries = {entry.feed_id: entry for entry in _pairs(own) + _pairs(merged)}
    return PageRead(
        built=bool(built),
        entries=sorted(entries.values(), key=Entry.sort_key, reverse=True),
        touch=bool(touch),
        seen={int(member) for member in seen},
        floor=int(float(_text(floor))),
        cut=int(float(_text(cut))),
        cards={int(found[i]): (found[i + 1] or None, _text(found[i + 2])) for i in range(0, len(found), 3)},
        flags_built=bool(flags_built),
        hidden_members=list(hidden) if hidden_keys else None,
    )


def _read_page_by_slot(
    *, user_id: int, max_score: int | None, count: int, today: str, cards: CardRequest | None
) -> PageRead:
    """``read_page`` on Redis Cluster, where a script or multi-key command stays in one slot:
    the user's own keys (and whether their flags hash is built) in one script, the creators'
    sets pipelined, then the cards of the entries the page will take (``mget_nonatomic``,
    one call per slot) and, in the user's slot, their flags and which merged ones were seen."""
    top = "+inf" if max_score is None else max_score
    flags_key = cards.flags_key if cards is not None else ""
    built, own, creators, touch, seen, floor, flags_built = _script(scripts.READ_OWN_PAGE)(
        keys=[key.format(user_id=user_id) for key in (FEED_KEY, FEED_META_KEY, FEED_BIG_KEY, FEED_SEEN_KEY)]
        + ([flags_key] if flags_key else []),
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
        sources.append([Entry(score=int(score), feed_id=int(member)) for member, score in rows])
        floor = max(floor, int(float(_text(creator_floor or "0"))))
    cut = max((rows[-1].score for rows in sources if count and len(rows) == count), default=0)
    entries = sorted({e.feed_id: e for rows in sources for e in rows}.values(), key=Entry.sort_key, reverse=True)
    seen_ids = {int(member) for member in seen}
    merged_ids = [entry.feed_id for rows in sources[1:] for entry in rows]
    found: dict[int, tuple[bytes | None, str]] = {}
    if built and cards is not None:
        candidates = _page_candidates(entries, floor=floor, cut=cut, before=cards.before, skip=seen_ids)
        found, merged_seen = _cards_by_slot(
            user_id=user_id, request=cards, candidates=candidates, merged_ids=merged_ids, flags_built=bool(flags_built)
        )
        seen_ids |= merged_seen
    elif merged_ids:
        seen_ids |= seen_among(user_id=user_id, feed_ids=merged_ids)
    return PageRead(
        built=bool(built),
        entries=entries,
        touch=bool(touch),
        seen=seen_ids,
        floor=floor,
        cut=cut,
        cards=found,
        flags_built=bool(flags_built),
    )


def _page_candidates(
    entries: list[Entry], *, floor: int, cut: int, before: Entry | None, skip: set[int]
) -> list[Entry]:
    """The entries a page walks, in order (the rules of ``scripts.READ_PAGE`` and
    ``pages._exact_entries``): above the floor, after the cursor, not past the cut."""
    rows = [e for e in entries if e.score > floor and (before is None or e.sort_key() < before.sort_key())]
    above_cut = any(e.score > cut for e in rows)
    if cut:
        rows = [e for e in rows if e.score > cut or (e.score == cut and not above_cut)]
    return [e for e in rows if e.feed_id not in skip]


def _cards_by_slot(
    *, user_id: int, request: CardRequest, candidates: list[Entry], merged_ids: list[int], flags_built: bool
) -> tuple[dict[int, tuple[bytes | None, str]], set[int]]:
    """Cards of up to ``request.wanted`` public candidates, with the viewer's flags for them
    (when the hash is built), and which merged entries the user has seen."""
    # Which merged entries were seen is only known after this call: read cards for about
    # twice the page (the page's own fetch size); a shortfall is hydrated by the caller.
    members = [entry.feed_id for entry in candidates[: 2 * request.wanted + 5]]
    values = client().mget_nonatomic([request.card_key_template.replace("<id>", str(m)) for m in members])
    owners = {}
    for member, value in zip(members, values, strict=True):
        owner, _, _ = (value or b"").partition(b" ")
        if owner.isdigit():
            owners[member] = owner.decode()
    pipe = client().pipeline(transaction=False)  # both commands in the user's slot
    pipe.zmscore(FEED_SEEN_KEY.format(user_id=user_id), merged_ids or [0])
    fields = [f"{prefix}{member}" for member, owner in owners.items() for prefix in ("l:", "f:")]
    fields += [f"u:{owner}" for owner in owners.values()]
    pipe.hmget(request.flags_key, fields or ["built"])
    seen_scores, flag_values = pipe.execute()
    merged_seen = {m for m, score in zip(merged_ids, seen_scores, strict=False) if score is not None}
    flag_set = {name for name, value in zip(fields, flag_values, strict=False) if value is not None}
    found: dict[int, tuple[bytes | None, str]] = {}
    public = 0
    for member, value in zip(members, values, strict=True):
        if member in merged_seen or public >= request.wanted:
            continue
        bits = ""
        if member in owners:
            public += 1
            if flags_built:
                names = (f"l:{member}", f"f:{member}", f"u:{owners[member]}")
                bits = "".join("1" if name in flag_set else "0" for name in names)
        found[member] = (value or None, bits)
    return found, merged_seen


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
    """Fan-out: add one entry to each existing feed among ``user_ids``; returns how many.

    One round trip: the script calls are pipelined, each over at most
    ``FANOUT_FEEDS_PER_SCRIPT`` feeds (one user's on Redis Cluster, where a script's keys
    share a slot), so no single call holds Redis for long."""
    args = [entry.score, entry.feed_id, settings.FEED_MAX_ITEMS]
    per_call = 1 if _is_cluster() else FANOUT_FEEDS_PER_SCRIPT
    calls = []
    for start in range(0, len(user_ids), per_call):
        keys: list[str] = []
        for user_id in user_ids[start : start + per_call]:
            keys += [FEED_KEY.format(user_id=user_id), FEED_META_KEY.format(user_id=user_id)]
        calls.append((keys, args))
    return sum(int(added) for added in _pipelined(scripts.ADD_TO_EXISTING_FEEDS, calls))


def merge_into_feed(*, user_id: int, entries: Sequence[Entry]) -> None:
    """Add entries to one user's feed if it is built (follow backfill)."""
    if not entries:
        return
    keys = [FEED_KEY.format(user_id=user_id), FEED_META_KEY.format(user_id=user_id)]
    calls = [(keys, [entry.score, entry.feed_id, settings.FEED_MAX_ITEMS]) for entry in entries]
    _pipelined(scripts.ADD_TO_EXISTING_FEEDS, calls)


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
    _pipelined(scripts.ADD_TO_EXISTING_FEEDS, calls)


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
    _script(scripts.ADD_CREATOR_VIDEO)(
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
    return {_text(key): int(value) for key, value in client().hgetall(STATS_KEY).items()}
