"""One feed page read from Redis in one round trip (``read_page``): the user's feed merged
with the sets of the big creators they follow, and, for a warm page, the cards and the
viewer's flags of the entries it takes. The keys are ``feed.store``'s; the scripts are
``feed/scripts/read_page.lua`` (one Redis) and ``read_own_page.lua`` (Redis Cluster, where
the rest is read by slot here).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from feed.store import (
    CREATOR_FLOOR_KEY,
    CREATOR_VIDEOS_KEY,
    FEED_BIG_KEY,
    FEED_KEY,
    FEED_META_KEY,
    FEED_SEEN_KEY,
    STATS_KEY,
    Entry,
    client,
    feed_ttl_seconds,
    is_cluster,
    pairs,
    seen_among,
    text,
)
from tiktok.redis_scripts import load_redis_script

READ_PAGE = load_redis_script("feed", "read_page.lua")
READ_OWN_PAGE = load_redis_script("feed", "read_own_page.lua")


@dataclass(frozen=True, kw_only=True)
class PageScriptArgs:
    """The ARGV of ``read_page.lua``, by name; ``argv()`` gives them in the script's order
    (the order of the fields)."""

    max_score: int | str  # inclusive, or "+inf"
    count: int
    creator_key_template: str  # with "<id>" for the creator id
    ttl_seconds: int
    today: str
    stats_key: str
    creator_floor_key_template: str  # with "<id>" for the creator id
    card_key_template: str = ""  # with "<id>" for the feed id; "": no cards
    flags_key: str = ""
    cards_wanted: int = 0
    cursor_member: int | str = ""  # the cursor's feed id, "" for the first page
    creator_batch: int = 4  # rows first read from each big creator's set (with cards)

    def argv(self) -> list:
        return [getattr(self, f.name) for f in dataclasses.fields(self)]


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
    # entries the page will most likely take (see ``read_page.lua``); may be empty.
    cards: dict[int, tuple[bytes | None, str]] = field(default_factory=dict)
    flags_built: bool = False  # the viewer's flags hash was complete
    # Members of the viewer's hidden-users set when the request named it (``[]``: not
    # cached), None when not read (``activity.visibility.relations.hidden_users`` reads it then).
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
    # merge needs them (``read_page.lua``), so a small first read stays exact.
    creator_batch: int = 4


def read_page(
    *, user_id: int, max_score: int | None, count: int, today: str, cards: CardRequest | None = None
) -> PageRead:
    """Entries with score <= ``max_score`` from the user's feed and followed big creators
    (and, with ``cards``, the cards and flags of the entries a page takes, same call)."""
    if is_cluster():
        return _read_page_by_slot(user_id=user_id, max_score=max_score, count=count, today=today, cards=cards)
    hidden_keys = [cards.hidden_key] if cards is not None and cards.hidden_key else []
    args = PageScriptArgs(
        max_score="+inf" if max_score is None else max_score,
        count=count,
        creator_key_template=CREATOR_VIDEOS_KEY.format(creator_id="<id>"),
        ttl_seconds=feed_ttl_seconds(),
        today=today,
        stats_key=STATS_KEY,
        creator_floor_key_template=CREATOR_FLOOR_KEY.format(creator_id="<id>"),
    )
    if cards is not None:
        args = dataclasses.replace(
            args,
            card_key_template=cards.card_key_template,
            flags_key=cards.flags_key,
            cards_wanted=cards.wanted,
            cursor_member="" if cards.before is None else cards.before.feed_id,
            creator_batch=cards.creator_batch,
        )
    built, own, merged, touch, seen, floor, cut, found, flags_built, hidden = READ_PAGE(
        client(),
        keys=[
            FEED_KEY.format(user_id=user_id),
            FEED_META_KEY.format(user_id=user_id),
            FEED_BIG_KEY.format(user_id=user_id),
            FEED_SEEN_KEY.format(user_id=user_id),
            *hidden_keys,
        ],
        args=args.argv(),
    )
    entries = {entry.feed_id: entry for entry in pairs(own) + pairs(merged)}
    return PageRead(
        built=bool(built),
        entries=sorted(entries.values(), key=Entry.sort_key, reverse=True),
        touch=bool(touch),
        seen={int(member) for member in seen},
        floor=int(float(text(floor))),
        cut=int(float(text(cut))),
        cards={int(found[i]): (found[i + 1] or None, text(found[i + 2])) for i in range(0, len(found), 3)},
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
    built, own, creators, touch, seen, floor, flags_built = READ_OWN_PAGE(
        client(),
        keys=[key.format(user_id=user_id) for key in (FEED_KEY, FEED_META_KEY, FEED_BIG_KEY, FEED_SEEN_KEY)]
        + ([flags_key] if flags_key else []),
        args=[top, count, feed_ttl_seconds(), today],
    )
    sources = [pairs(own)]
    floor = int(float(text(floor)))
    pipe = client().pipeline(transaction=False)
    for creator in creators:
        key = CREATOR_VIDEOS_KEY.format(creator_id=text(creator))
        pipe.zrevrangebyscore(key, top, "-inf", start=0, num=count, withscores=True)
        pipe.get(CREATOR_FLOOR_KEY.format(creator_id=text(creator)))
    if built:
        pipe.hincrby(STATS_KEY, "hits", 1)
    results = pipe.execute()
    for index in range(len(creators)):
        rows, creator_floor = results[2 * index], results[2 * index + 1]
        sources.append([Entry(score=int(score), feed_id=int(member)) for member, score in rows])
        floor = max(floor, int(float(text(creator_floor or "0"))))
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
    """The entries a page walks, in order (the rules of ``read_page.lua`` and
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
