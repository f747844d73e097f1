"""Feed read side: one page of the following feed, its cursor, and the trending page.

Reading a page never fails because of Redis: a missing feed is rebuilt under a short
lock (one rebuild, not a stampede), a feed that runs out continues into older videos
computed in SQL, and with Redis down the whole page comes from SQL on a replica, marked
degraded. Following nobody (or nothing to show) means trending.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings

from activity.engagement import flags
from activity.engagement.selectors import video_cards, viewer_flags
from activity.visibility import relations
from feed import page_store, selectors, services, store, trending_store
from feed.store import REDIS_ERRORS, Entry
from tiktok import cursors, db_router, metrics
from tiktok.cursors import InvalidCursorError
from tiktok.outbox import enqueue
from videos.models import FEED_ID_MAX
from videos.selectors import (
    CARD_JSON_NOT_PUBLIC,
    CardJson,
    card_json_key_template,
    card_json_parse,
    feed_ids_by_video_id,
    video_ids_by_feed_id,
)

logger = logging.getLogger(__name__)


@dataclass
class FeedPage:
    items: list[dict | bytes]  # cards: dicts, or the JSON bytes a warm page splices
    next_cursor: str | None
    source: str  # "following", "trending"
    degraded: bool = False
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Cursor:
    kind: str  # "f": following (Redis, then SQL), "s": SQL continuation, "t": trending
    entry: Entry | None = None
    version: str | None = None
    offset: int = 0

    def encode(self) -> str:
        data: dict = {"k": self.kind}
        if self.entry is not None:
            data |= {"s": self.entry.score, "m": self.entry.feed_id}
        if self.version is not None:
            data |= {"v": self.version, "o": self.offset}
        return cursors.sign(data)

    @classmethod
    def decode(cls, raw: str | None) -> Cursor:
        """A cursor this API signed, every value bounded; else ``InvalidCursorError`` (400)."""
        if not raw:
            return cls(kind="f")
        data = cursors.unsign(raw)
        kind = data.get("k")
        if kind == "t":
            version = data.get("v")
            if not isinstance(version, str) or not version.isdigit() or len(version) > 20:
                raise InvalidCursorError()
            offset = cursors.bounded_int(data.get("o"), high=settings.TRENDING_MAX_ITEMS)
            return cls(kind=kind, version=version, offset=offset)
        if kind not in {"f", "s"}:
            raise InvalidCursorError()
        entry = Entry(score=cursors.epoch_microseconds(data.get("s")), feed_id=_cursor_member(data.get("m")))
        return cls(kind=kind, entry=entry)


def _cursor_member(value) -> int:
    """The feed id a cursor continues after. Cursors signed before feed ids were members
    carry the video's UUID: mapped to its feed id, so a client paging across the deploy
    continues where it was (a video deleted since: ``InvalidCursorError``)."""
    if isinstance(value, str):
        video_id = cursors.uuid_text(value)
        feed_id = feed_ids_by_video_id([video_id]).get(video_id)
        if feed_id is None:  # a lagging replica is no proof it is gone: ask the primary
            with db_router.prefer_primary():
                feed_id = feed_ids_by_video_id([video_id]).get(video_id)
        if feed_id is None:
            raise InvalidCursorError()
        return feed_id
    return cursors.bounded_int(value, low=1, high=FEED_ID_MAX - 1)


def feed_page(*, viewer, cursor: str | None, limit: int) -> FeedPage:
    parsed = Cursor.decode(cursor)
    if parsed.kind == "t":
        return trending_feed_page(viewer=viewer, cursor=parsed, limit=limit)
    try:
        page = _following_page(viewer=viewer, cursor=parsed, limit=limit)
    except REDIS_ERRORS:
        logger.warning("Redis unavailable: serving the feed of user %s from SQL", viewer.pk)
        page = _sql_page(viewer=viewer, before=parsed.entry, limit=limit, seen=set())
        page.degraded = True
        return page
    if not page.items and parsed.entry is None:
        # Following nobody, or nothing published by anyone followed: show what's trending.
        return trending_feed_page(viewer=viewer, cursor=Cursor(kind="t"), limit=limit)
    return page


def _following_page(*, viewer, cursor: Cursor, limit: int) -> FeedPage:
    if cursor.kind == "s":
        return _sql_page(viewer=viewer, before=cursor.entry, limit=limit, seen=None)
    user_id = viewer.pk
    before = cursor.entry
    items: list[dict | bytes] = []
    fetch = limit * 2 + 5
    # Blocked (either way) and muted creators, read by the first page script call; their
    # entries are also taken out of the feed at once by a task, this only covers the race.
    hidden: frozenset[int] | None = None
    for _ in range(settings.FEED_MAX_READ_ROUNDS):
        cards_request = page_store.CardRequest(
            card_key_template=card_json_key_template(),
            flags_key=flags.flags_key(user_id),
            wanted=limit - len(items),
            before=before,
            hidden_key="" if hidden is not None else relations.hidden_users_key(user_id),
        )
        read = page_store.read_page(
            user_id=user_id,
            max_score=before.score if before else None,
            count=fetch,
            today=_today(),
            cards=cards_request,
        )
        if not read.built:
            store.count("misses")
            metrics.count_feed_event("miss")
            if not _ensure_built(user_id=user_id):
                return _sql_page(viewer=viewer, before=before, limit=limit, seen=None)
            continue
        if hidden is None:
            hidden = relations.hidden_users(viewer_id=user_id, members=read.hidden_members).all
        if read.touch:
            _record_activity(user_id=user_id)
        if read.cards and not read.flags_built:
            rebuild_flags(user_id=user_id)  # this page's flags come from SQL, the next from Redis
        entries = _exact_entries(read, before=before)
        if not entries:
            break  # nothing exact left in Redis: continue in SQL
        # Hydrate only as many cards as the page still needs (plus a little slack for
        # hidden or removed ones), chunk by chunk.
        start = 0
        while start < len(entries):
            chunk = entries[start : start + _chunk_size(read, entries[start:], default=limit - len(items) + 2)]
            start += len(chunk)
            wanted = [entry.feed_id for entry in chunk if entry.feed_id not in read.seen]
            cards = hydrate(read, feed_ids=wanted, viewer=viewer, hidden=hidden) if wanted else {}
            for entry in chunk:
                before = entry
                card = cards.get(entry.feed_id)
                if card is not None:
                    items.append(card)
                    if len(items) == limit:
                        metrics.count_feed_event("hit")
                        next_cursor = Cursor(kind="f", entry=entry).encode()
                        return FeedPage(items=items, next_cursor=next_cursor, source="following")
        if not read.cut:
            break  # Redis has nothing older above its floor: continue in SQL
    metrics.count_feed_event("hit")
    rest = _sql_page(viewer=viewer, before=before, limit=limit - len(items), seen=None) if len(items) < limit else None
    if rest is not None:
        items += rest.items
        next_cursor = rest.next_cursor
    else:
        next_cursor = Cursor(kind="f", entry=before).encode() if before else None
    return FeedPage(items=items, next_cursor=next_cursor, source="following")


def _chunk_size(read: page_store.PageRead, entries: list[Entry], *, default: int) -> int:
    """How many entries to hydrate next: those the page script already returned cards for
    (or skipped as seen), else ``default`` (the cards the page still needs plus slack)."""
    for index, entry in enumerate(entries):
        if entry.feed_id not in read.cards and entry.feed_id not in read.seen:
            return index or default
    return len(entries)


def hydrate(
    read: page_store.PageRead, *, feed_ids: list[int], viewer, hidden: frozenset[int]
) -> dict[int, dict | bytes]:
    """Cards for ``feed_ids``: spliced from the bytes and flags the page script returned
    (a warm page: no SQL), else through ``activity.engagement.selectors.video_cards`` (card cache,
    then SQL). Flags not in Redis (hash not built) come from SQL. ``read``: a page script's
    result with ``cards`` (feed id -> (card bytes, flag bits)); For You passes its own."""
    found: dict[int, dict | bytes] = {}
    unflagged: dict[int, CardJson] = {}
    missing: list[int] = []
    for feed_id in feed_ids:
        value, bits = read.cards.get(feed_id, (None, ""))
        card = card_json_parse(value)
        if card is None:
            missing.append(feed_id)  # not read by the script, not cached, or invalidated
        elif card == CARD_JSON_NOT_PUBLIC or card.owner_id in hidden:
            continue
        elif bits:
            found[feed_id] = card.with_viewer(flags.VIEWER_JSON[bits])
        else:
            unflagged[feed_id] = card
    if unflagged:
        video_ids = {feed_id: card.video_id() for feed_id, card in unflagged.items()}
        owners = {video_ids[feed_id]: card.owner_id for feed_id, card in unflagged.items()}
        sql_flags = viewer_flags(viewer=viewer, video_owner_ids=owners)
        for feed_id, card in unflagged.items():
            found[feed_id] = card.with_viewer(flags.viewer_json(sql_flags[video_ids[feed_id]]))
    if missing:
        found |= _cold_cards(missing, viewer=viewer, hidden=hidden)
    return found


def _cold_cards(feed_ids: list[int], *, viewer, hidden: frozenset[int]) -> dict[int, dict]:
    """Cards not in the card cache, through the public ids SQL knows them by. Feed entries
    come from Redis, which fan-out fills as soon as a video is published: a replica that has
    not replayed the publish yet does not know the row, so when it misses one, the page asks
    the primary (while it answers) rather than skip the entry as gone."""
    video_ids = video_ids_by_feed_id(feed_ids)
    if len(video_ids) < len(set(feed_ids)):
        with db_router.prefer_primary():
            return _cards_by_feed_id(video_ids_by_feed_id(feed_ids), viewer=viewer, hidden=hidden)
    return _cards_by_feed_id(video_ids, viewer=viewer, hidden=hidden)


def _cards_by_feed_id(video_ids: dict[int, str], *, viewer, hidden: frozenset[int]) -> dict[int, dict]:
    feed_ids_of = {video_id: feed_id for feed_id, video_id in video_ids.items()}
    cards = video_cards(video_ids=list(feed_ids_of), viewer=viewer, hidden=hidden)
    return {feed_ids_of[card["id"]]: card for card in cards}


def rebuild_flags(*, user_id: int) -> None:
    try:
        flags.flags_rebuild(user_id=user_id)
    except REDIS_ERRORS:
        logger.warning("could not rebuild the flags of user %s", user_id)


def _exact_entries(read: page_store.PageRead, *, before: Entry | None) -> list[Entry]:
    """The entries of one Redis read that are exactly the feed's next ones after ``before``.

    Above the floor the feed and the big creators' sets together hold every video the
    follows imply; below it they were trimmed, and SQL continues. Below the cut one of the
    sets may hold entries this read did not return; the next read starts there.
    """
    entries = [entry for entry in read.entries if entry.score > read.floor]
    if before is not None:
        entries = [entry for entry in entries if entry.sort_key() < before.sort_key()]
    if read.cut:
        # Strictly above the cut is safe; a tie group at the cut itself is taken whole
        # only when nothing else is left (so every read makes progress).
        entries = [entry for entry in entries if entry.score > read.cut] or [
            entry for entry in entries if entry.score >= read.cut
        ]
    return entries


def _sql_page(*, viewer, before: Entry | None, limit: int, seen: set[int] | None) -> FeedPage:
    """A page of the pull-model feed, continuing strictly after ``before``."""
    items: list[dict] = []
    for _ in range(settings.FEED_MAX_READ_ROUNDS):
        entries = selectors.pull_feed_entries(user_id=viewer.pk, before=before, limit=limit * 2)
        if not entries:
            return FeedPage(items=items, next_cursor=None, source="following")
        if seen is None:
            try:
                seen = store.seen_among(user_id=viewer.pk, feed_ids=[entry.feed_id for entry in entries])
            except REDIS_ERRORS:
                seen = set()
        cards = {
            card["id"]: card
            for card in video_cards(video_ids=[e.video_id for e in entries if e.feed_id not in seen], viewer=viewer)
        }
        for entry in entries:
            before = entry
            card = cards.get(entry.video_id)
            if card is not None:
                items.append(card)
                if len(items) == limit:
                    return FeedPage(items=items, next_cursor=Cursor(kind="s", entry=entry).encode(), source="following")
        if len(entries) < limit * 2:
            return FeedPage(items=items, next_cursor=None, source="following")
        seen = None
    return FeedPage(items=items, next_cursor=Cursor(kind="s", entry=before).encode(), source="following")


def pull_feed_page(*, viewer, cursor: str | None, limit: int) -> FeedPage:
    """The pull model on its own (bench baseline): every page computed in SQL."""
    parsed = Cursor.decode(cursor)
    return _sql_page(viewer=viewer, before=parsed.entry, limit=limit, seen=set())


def _ensure_built(*, user_id: int) -> bool:
    """Rebuild a missing feed once; concurrent readers wait for that one rebuild."""
    if store.acquire_rebuild_lock(user_id=user_id, seconds=settings.FEED_REBUILD_LOCK_SECONDS):
        try:
            if not store.feed_exists(user_id=user_id):  # another reader may have just built it
                services.feed_rebuild(user_id=user_id)
                metrics.count_feed_event("rebuild")
        finally:
            store.release_rebuild_lock(user_id=user_id)
        return True
    deadline = time.monotonic() + settings.FEED_REBUILD_WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.05)
        if store.feed_exists(user_id=user_id):
            return True
    return False


def _record_activity(*, user_id: int) -> None:
    """Once a day per user: record in the database that they read their feed."""
    try:
        enqueue("feed.tasks.record_feed_read", user_id)
    except Exception:  # noqa: BLE001 - broker down: the next day's read records it
        logger.warning("could not enqueue record_feed_read for user %s", user_id)


def _today() -> str:
    return datetime.now(tz=UTC).strftime("%Y-%m-%d")


def trending_feed_page(*, viewer, cursor: Cursor, limit: int) -> FeedPage:
    version = cursor.version or trending_store.current_trending_version() or services.trending_recompute()
    offset = cursor.offset
    items: list[dict] = []
    while len(items) < limit:
        rows, exists = trending_store.trending_page(version=version, offset=offset, count=limit * 2)
        if not exists and cursor.version is not None:
            # The version this client was paging expired: restart on the current one.
            version, offset, cursor = (
                trending_store.current_trending_version() or services.trending_recompute(),
                0,
                Cursor(kind="t"),
            )
            continue
        if not rows:
            return FeedPage(items=items, next_cursor=None, source="trending")
        cards = {card["id"]: card for card in video_cards(video_ids=[row[0] for row in rows], viewer=viewer)}
        for video_id, _, parts in rows:
            offset += 1
            card = cards.get(video_id)
            if card is not None:
                items.append(card | {"rank": parts})
                if len(items) == limit:
                    break
        if len(rows) < limit * 2 and len(items) < limit:
            return FeedPage(items=items, next_cursor=None, source="trending")
    return FeedPage(
        items=items, next_cursor=Cursor(kind="t", version=version, offset=offset).encode(), source="trending"
    )
