"""For You: the precomputed list per user (built by Celery) and its pages.

``discovery.ranking`` ranks a user's candidates; the list is stored per user by
``discovery.store``. Pages read it from Redis; with Redis down the same ranking is
computed in SQL (hashtag pools computed on the spot, no co-engagement, recent videos by
quality for trending, default ranker weights), marked degraded.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import orjson
from django.conf import settings

from activity.engagement import flags
from activity.engagement.selectors import video_cards
from activity.models import Favorite, Like, View
from activity.visibility import relations
from discovery import store
from discovery.ranking import rank_for_user
from feed import pages
from feed.pages import FeedPage
from feed.store import REDIS_ERRORS
from tiktok import cursors, db_router
from tiktok.cursors import InvalidCursorError
from videos.selectors import card_json_key_template, feed_ids_by_video_id

logger = logging.getLogger(__name__)

SOURCE = "for_you"


# --- Build (Celery) -----------------------------------------------------------------------


def for_you_rebuild(*, user_id: int) -> int:
    """Build one user's list from at least everything committed before now; returns its length."""
    with db_router.reading_everything_committed():
        ranked = rank_for_user(user_id=user_id)
        # The list holds feed ids: a page reads cards, flags and seen marks by them in Redis.
        feed_ids = feed_ids_by_video_id([item.video_id for item in ranked])
    rows = [
        store.RankedVideo(
            feed_id=feed_ids[item.video_id], owner_id=item.owner_id, score=item.score, reasons=item.reasons
        )
        for item in ranked
        if item.video_id in feed_ids  # deleted since it was ranked
    ]
    store.publish_list(user_id=user_id, ranked=rows, keep_seconds=settings.FOR_YOU_LIST_SECONDS)
    return len(rows)


def recently_engaged_user_ids(*, since) -> list[int]:
    """Users who liked, favorited or watched something since ``since`` (bounded)."""
    limit = settings.FOR_YOU_ENGAGED_USERS_PER_TICK
    users: set[int] = set()
    users |= set(Like.objects.filter(created_at__gte=since).values_list("user_id", flat=True).distinct()[:limit])
    users |= set(Favorite.objects.filter(created_at__gte=since).values_list("user_id", flat=True).distinct()[:limit])
    users |= set(View.objects.filter(created_at__gte=since).values_list("viewer_id", flat=True).distinct()[:limit])
    return sorted(users)[:limit]


# --- Read side --------------------------------------------------------------------------------


@dataclass
class ForYouCursor:
    version: str | None = None  # the Redis list being paged; None with ``degraded``
    offset: int = 0
    degraded: bool = False  # paging the SQL ranking (Redis was down)

    def encode(self) -> str:
        if self.degraded:
            return cursors.sign({"k": "yd", "o": self.offset})
        return cursors.sign({"k": "y", "v": self.version, "o": self.offset})

    @classmethod
    def decode(cls, raw: str | None) -> ForYouCursor:
        if not raw:
            return cls()
        data = cursors.unsign(raw)
        offset = cursors.bounded_int(data.get("o"), high=settings.FOR_YOU_MAX_ITEMS)
        if data.get("k") == "yd":
            return cls(offset=offset, degraded=True)
        version = data.get("v")
        if data.get("k") != "y" or not isinstance(version, str) or not version.isdigit() or len(version) > 20:
            raise InvalidCursorError()
        return cls(version=version, offset=offset)


def for_you_page(*, viewer, cursor: str | None, limit: int) -> FeedPage:
    parsed = ForYouCursor.decode(cursor)
    if not parsed.degraded:
        try:
            return _redis_page(viewer=viewer, cursor=parsed, limit=limit)
        except REDIS_ERRORS:
            logger.warning("Redis unavailable: ranking For You of user %s in SQL", viewer.pk)
            parsed = ForYouCursor(degraded=True)
    page = _sql_page(viewer=viewer, offset=parsed.offset, limit=limit)
    page.degraded = True
    return page


def _redis_page(*, viewer, cursor: ForYouCursor, limit: int) -> FeedPage:
    """A page of the precomputed list. Warm (list, cards, flags and hidden users cached): one
    script call and the cards' bytes spliced, no SQL; what is not cached comes from SQL
    (``feed.pages`` hydrates as for the following feed: a card a lagging replica lacks is
    read on the primary)."""
    user_id = viewer.pk
    version, offset = cursor.version, cursor.offset
    keys = store.PageRequest(
        card_key_template=card_json_key_template(),
        flags_key=flags.flags_key(user_id),
        hidden_key=relations.hidden_users_key(user_id),
    )
    items: list[dict | bytes] = []
    hidden: frozenset[int] | None = None
    for _ in range(settings.FEED_MAX_READ_ROUNDS):
        wanted = limit - len(items)
        read = store.read_page(user_id=user_id, version=version, offset=offset, wanted=wanted, keys=keys)
        if read.version is None:  # no list (new user, expired or evicted): build it once
            version, offset = _current_or_built(user_id=user_id), 0
            if version is None:
                return _sql_page(viewer=viewer, offset=0, limit=limit)  # another reader is building it
            continue
        version = read.version
        if hidden is None:  # a block or mute applies at once, even to a list built before it
            hidden = relations.hidden_users(viewer_id=user_id, members=read.hidden_members).all
        if read.rows and not read.flags_built:
            pages.rebuild_flags(user_id=user_id)  # this page's flags come from SQL, the next from Redis
        cards = pages.hydrate(read, feed_ids=[row.feed_id for row in read.rows], viewer=viewer, hidden=hidden)
        for row in read.rows:
            card = cards.get(row.feed_id)
            if card is not None:
                items.append(_with_rank(card, row.rank))
                if len(items) == limit:
                    return _list_page(items, version=version, offset=row.position + 1)
        offset = read.next_offset
        if offset >= read.length:
            return FeedPage(items=items, next_cursor=None, source=SOURCE)
    return _list_page(items, version=version, offset=offset)


def _with_rank(card: dict | bytes, rank: bytes) -> dict | bytes:
    """The card with ``rank`` (JSON) as its last member: spliced into bytes, parsed into a dict."""
    if isinstance(card, bytes):
        return card[:-1] + b',"rank":' + rank + b"}"
    return card | {"rank": orjson.loads(rank)}


def _list_page(items: list[dict | bytes], *, version: str, offset: int) -> FeedPage:
    return FeedPage(items=items, next_cursor=ForYouCursor(version=version, offset=offset).encode(), source=SOURCE)


def _current_or_built(*, user_id: int) -> str | None:
    """The current version, built now if missing (once: concurrent readers wait for it)."""
    version = store.current_version(user_id=user_id)
    if version is not None:
        return version
    if store.acquire_build_lock(user_id=user_id, seconds=settings.FEED_REBUILD_LOCK_SECONDS):
        try:
            for_you_rebuild(user_id=user_id)
        finally:
            store.release_build_lock(user_id=user_id)
        return store.current_version(user_id=user_id)
    deadline = time.monotonic() + settings.FEED_REBUILD_WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.05)
        version = store.current_version(user_id=user_id)
        if version is not None:
            return version
    return None


def _sql_page(*, viewer, offset: int, limit: int) -> FeedPage:
    """A page of the ranking computed now in SQL (no Redis at all)."""
    ranked = rank_for_user(user_id=viewer.pk, use_redis=False)
    items: list[dict] = []
    while len(items) < limit and offset < len(ranked):
        chunk = ranked[offset : offset + limit * 2]
        cards = {card["id"]: card for card in video_cards(video_ids=[item.video_id for item in chunk], viewer=viewer)}
        for item in chunk:
            offset += 1
            card = cards.get(item.video_id)
            if card is not None:
                items.append(card | {"rank": {"score": round(item.score, 4), "reasons": item.reasons}})
                if len(items) == limit:
                    break
    more = offset < len(ranked)
    next_cursor = ForYouCursor(offset=offset, degraded=True).encode() if more else None
    return FeedPage(items=items, next_cursor=next_cursor, source=SOURCE)
