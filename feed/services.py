"""Feeds: what other apps call when something changes, and how a page is assembled.

Entry points for other apps (each enqueues work after the surrounding commit):
``video_published``, ``video_withdrawn``, ``follow_created``, ``follow_removed``,
``video_viewed``. Apps never touch feed keys themselves: ``feed/store.py`` owns them.

Reading a page (``feed_page``) never fails because of Redis: a missing feed is rebuilt
under a short lock (one rebuild, not a stampede), a feed that runs out continues into
older videos computed in SQL, and with Redis down the whole page comes from SQL on a
replica, marked degraded. Following nobody (or nothing to show) means trending.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import redis.exceptions
from django.conf import settings

from feed import selectors, store
from feed.store import Entry
from tiktok import db_router, metrics
from tiktok.outbox import enqueue_on_commit
from tiktok.pagination import InvalidCursorError

logger = logging.getLogger(__name__)

REDIS_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, redis.exceptions.BusyLoadingError)


# --- entry points for other apps --------------------------------------------------------


def video_published(*, video_id) -> None:
    """A video became ready and visible: fan it out to followers' feeds."""
    from feed import tasks

    enqueue_on_commit(tasks.fanout_video, str(video_id))


def video_withdrawn(*, video_id, owner_id: int | None = None) -> None:
    """A video was deleted, hidden or removed: purge it from feeds in the background.

    Reads drop it at once anyway (cards are only shown for public videos).
    """
    from feed import tasks

    enqueue_on_commit(tasks.purge_video, str(video_id), owner_id)


def follow_created(*, follower_id: int, followee_id: int) -> None:
    """Merge the creator's recent videos into the follower's feed."""
    from feed import tasks

    enqueue_on_commit(tasks.merge_creator_into_feed, follower_id, followee_id)


def follow_removed(*, follower_id: int, followee_id: int) -> None:
    """Remove the creator's videos from the follower's feed."""
    from feed import tasks

    enqueue_on_commit(tasks.remove_creator_from_feed, follower_id, followee_id)


def video_viewed(*, viewer_id: int, video_id) -> None:
    """The viewer watched a video: later pages and sessions skip it."""
    try:
        store.mark_seen(user_id=viewer_id, video_id=str(video_id))
    except REDIS_ERRORS:
        logger.warning("could not record seen video for user %s", viewer_id)


# --- building and updating feeds (called by tasks) --------------------------------------


def feed_rebuild(*, user_id: int) -> int:
    """Rebuild one user's feed from the database; returns the number of entries."""
    entries, big, _ = selectors.feed_source(user_id=user_id)
    for creator_id in big:
        _ensure_creator_videos(creator_id=creator_id)
    store.write_feed(user_id=user_id, entries=entries, big_creator_ids=big)
    store.count("rebuilds")
    return len(entries)


def _ensure_creator_videos(*, creator_id: int) -> None:
    """Seed a big creator's recent-videos set the first time they are seen as big."""
    if not store.is_big_creator_known(creator_id=creator_id):
        entries = selectors.creator_recent_entries(creator_id=creator_id, limit=settings.FEED_BIG_CREATOR_KEEP)
        store.set_creator_videos(creator_id=creator_id, entries=entries, keep=settings.FEED_BIG_CREATOR_KEEP)
        store.mark_big_creator(creator_id=creator_id)


def _published_entry(video_id: str) -> tuple[Entry, int, int] | None:
    row = (
        selectors.public_videos()
        .filter(id=video_id)
        .values_list("owner_id", "published_at", "owner__followers_count")
        .first()
    )
    if row is None:
        return None
    owner_id, published_at, followers = row
    return Entry(score=selectors.score_of(published_at), video_id=str(video_id)), owner_id, followers


def fanout_plan(*, video_id: str) -> Iterator[list[int]]:
    """Decide how a published video reaches feeds; yields follower batches to push to.

    Batches are yielded as they are read (keyset order), so workers start pushing the
    first batch while later ones are still being read.

    Big creators are not fanned out: their video goes to their own recent-videos set,
    which followers' pages merge at read time.
    """
    found = _published_entry(video_id)
    if found is None:
        return
    entry, owner_id, followers = found
    if followers >= settings.BIG_CREATOR_FOLLOWERS:
        first_time = not store.is_big_creator_known(creator_id=owner_id)
        _ensure_creator_videos(creator_id=owner_id)
        store.add_creator_video(creator_id=owner_id, entry=entry, keep=settings.FEED_BIG_CREATOR_KEEP)
        if first_time:
            from feed import tasks

            for batch in selectors.follower_id_batches(creator_id=owner_id, batch_size=settings.FANOUT_BATCH_SIZE):
                tasks.fanout_big_creator_followers.delay(owner_id, batch)
        return
    yield from selectors.follower_id_batches(creator_id=owner_id, batch_size=settings.FANOUT_BATCH_SIZE)


def fanout_batch(*, video_id: str, follower_ids: list[int]) -> int:
    """Push one video into the built feeds of a batch of followers (idempotent)."""
    started = time.perf_counter()
    found = _published_entry(video_id)
    if found is None:
        return 0
    entry, _, _ = found
    added = store.add_to_feeds(user_ids=follower_ids, entry=entry)
    metrics.observe_fanout(time.perf_counter() - started, 1)
    return added


def _follows(*, follower_id: int, followee_id: int) -> bool:
    """Whether the follow exists now (on the primary: the decision must not be stale)."""
    from activity.models import Follow

    with db_router.use_primary():
        return Follow.objects.filter(follower_id=follower_id, followee_id=followee_id).exists()


def follow_merge(*, follower_id: int, followee_id: int) -> None:
    """Follow: merge the creator's recent videos (or, for a big creator, their set).

    Merges and removals for one user run one at a time and re-check the follow inside
    the lock, so a quick follow/unfollow/follow settles on the final state whatever
    order the tasks run in.
    """
    from accounts.models import User

    with store.feed_update_lock(user_id=follower_id):
        if not _follows(follower_id=follower_id, followee_id=followee_id):
            return  # unfollowed again before this ran
        if not store.feed_exists(user_id=follower_id):
            return  # built from scratch on the next read
        followers = User.objects.filter(id=followee_id).values_list("followers_count", flat=True).first() or 0
        if followers >= settings.BIG_CREATOR_FOLLOWERS:
            _ensure_creator_videos(creator_id=followee_id)
            store.set_follows_big_creator(user_ids=[follower_id], creator_id=followee_id, following=True)
            return
        entries = selectors.creator_recent_entries(creator_id=followee_id, limit=settings.FEED_FOLLOW_BACKFILL)
        store.merge_into_feed(user_id=follower_id, entries=entries)


def follow_unmerge(*, follower_id: int, followee_id: int) -> None:
    """Unfollow: remove the creator's videos from the follower's feed."""
    with store.feed_update_lock(user_id=follower_id):
        if _follows(follower_id=follower_id, followee_id=followee_id):
            return  # followed again before this ran
        store.set_follows_big_creator(user_ids=[follower_id], creator_id=followee_id, following=False)
        video_ids = selectors.creator_video_ids_since(creator_id=followee_id, since_score=None)
        for start in range(0, len(video_ids), 1000):
            store.remove_from_feed(user_id=follower_id, video_ids=video_ids[start : start + 1000])


def video_purge(*, video_id: str, owner_id: int | None) -> None:
    """Remove a withdrawn video from every follower's feed, the creator set and trending."""
    from videos.models import Video

    video = Video.objects.filter(id=video_id).values_list("owner_id", flat=True).first()
    if selectors.public_videos().filter(id=video_id).exists():
        return  # restored before this ran
    owner_id = video or owner_id
    store.remove_from_trending(video_id=video_id)
    if owner_id is None:
        return
    store.remove_creator_video(creator_id=owner_id, video_id=video_id)
    for batch in selectors.follower_id_batches(creator_id=owner_id, batch_size=settings.FANOUT_BATCH_SIZE):
        store.remove_from_feeds(user_ids=batch, video_id=video_id)


# --- trending ---------------------------------------------------------------------------


def trending_score(*, likes: int, comments: int, views: int, completion: float, age_hours: float) -> float:
    """Engagement with time decay (gravity as in Hacker News ranking)."""
    engagement = 3 * likes + 4 * comments + views + 10 * completion * min(views, 50) / 50 + 1
    return engagement / (age_hours + 2) ** settings.TRENDING_GRAVITY


def trending_recompute() -> str:
    ranked = []
    for video_id, likes, comments, views, completion, age_hours in selectors.trending_candidates(
        window_hours=settings.TRENDING_WINDOW_HOURS
    ):
        score = trending_score(likes=likes, comments=comments, views=views, completion=completion, age_hours=age_hours)
        parts = {
            "score": round(score, 6),
            "likes": likes,
            "comments": comments,
            "views": views,
            "completion": round(completion, 3),
            "age_hours": round(age_hours, 2),
        }
        ranked.append((video_id, score, parts))
    ranked.sort(key=lambda item: item[1], reverse=True)
    return store.publish_trending(ranked=ranked[: settings.TRENDING_MAX_ITEMS], keep_seconds=3600)


# --- reading a page ---------------------------------------------------------------------


@dataclass
class FeedPage:
    items: list[dict]
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
            data |= {"s": self.entry.score, "m": self.entry.video_id}
        if self.version is not None:
            data |= {"v": self.version, "o": self.offset}
        return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, raw: str | None) -> Cursor:
        if not raw:
            return cls(kind="f")
        invalid = InvalidCursorError()
        try:
            data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode())
            kind = data["k"]
            if kind not in {"f", "s", "t"}:
                raise invalid
            entry = Entry(score=int(data["s"]), video_id=str(data["m"])) if "s" in data else None
            if kind == "t":
                return cls(kind=kind, version=str(data["v"]), offset=max(int(data["o"]), 0))
            if entry is None:
                raise invalid
            return cls(kind=kind, entry=entry)
        except (binascii.Error, ValueError, UnicodeDecodeError, KeyError, TypeError) as exc:
            raise invalid from exc


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
    from videos.selectors import video_cards

    if cursor.kind == "s":
        return _sql_page(viewer=viewer, before=cursor.entry, limit=limit, seen=None)
    user_id = viewer.pk
    before = cursor.entry
    items: list[dict] = []
    fetch = limit * 2 + 5
    for _ in range(settings.FEED_MAX_READ_ROUNDS):
        built, entries, touch, seen = store.read_page(
            user_id=user_id, max_score=before.score if before else None, count=fetch, today=_today()
        )
        if not built:
            store.count("misses")
            metrics.count_feed_event("miss")
            if not _ensure_built(user_id=user_id):
                return _sql_page(viewer=viewer, before=before, limit=limit, seen=None)
            continue
        if touch:
            _record_activity(user_id=user_id)
        if before is not None:
            entries = [entry for entry in entries if entry.sort_key() < before.sort_key()]
        if not entries:
            break
        # Hydrate only as many cards as the page still needs (plus a little slack for
        # hidden or removed ones), chunk by chunk.
        start = 0
        while start < len(entries):
            chunk = entries[start : start + limit - len(items) + 2]
            start += len(chunk)
            wanted = [entry.video_id for entry in chunk if entry.video_id not in seen]
            cards = {card["id"]: card for card in video_cards(video_ids=wanted, viewer=viewer)} if wanted else {}
            for entry in chunk:
                before = entry
                card = cards.get(entry.video_id)
                if card is not None:
                    items.append(card)
                    if len(items) == limit:
                        metrics.count_feed_event("hit")
                        next_cursor = Cursor(kind="f", entry=entry).encode()
                        return FeedPage(items=items, next_cursor=next_cursor, source="following")
        if len(entries) < fetch:
            break  # Redis has nothing older: continue in SQL
    metrics.count_feed_event("hit")
    rest = _sql_page(viewer=viewer, before=before, limit=limit - len(items), seen=None) if len(items) < limit else None
    if rest is not None:
        items += rest.items
        next_cursor = rest.next_cursor
    else:
        next_cursor = Cursor(kind="f", entry=before).encode() if before else None
    return FeedPage(items=items, next_cursor=next_cursor, source="following")


def _sql_page(*, viewer, before: Entry | None, limit: int, seen: set[str] | None) -> FeedPage:
    """A page of the pull-model feed, continuing strictly after ``before``."""
    from videos.selectors import video_cards

    items: list[dict] = []
    for _ in range(settings.FEED_MAX_READ_ROUNDS):
        entries = selectors.pull_feed_entries(user_id=viewer.pk, before=before, limit=limit * 2)
        if not entries:
            return FeedPage(items=items, next_cursor=None, source="following")
        if seen is None:
            try:
                seen = store.seen_among(user_id=viewer.pk, video_ids=[entry.video_id for entry in entries])
            except REDIS_ERRORS:
                seen = set()
        cards = {
            card["id"]: card
            for card in video_cards(video_ids=[e.video_id for e in entries if e.video_id not in seen], viewer=viewer)
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
                feed_rebuild(user_id=user_id)
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
    from feed import tasks

    try:
        tasks.record_feed_read.delay(user_id)
    except Exception:  # noqa: BLE001 - broker down: the next day's read records it
        logger.warning("could not enqueue record_feed_read for user %s", user_id)


def _today() -> str:
    return datetime.now(tz=UTC).strftime("%Y-%m-%d")


def trending_feed_page(*, viewer, cursor: Cursor, limit: int) -> FeedPage:
    from videos.selectors import video_cards

    version = cursor.version or store.current_trending_version() or trending_recompute()
    offset = cursor.offset
    items: list[dict] = []
    while len(items) < limit:
        rows, exists = store.trending_page(version=version, offset=offset, count=limit * 2)
        if not exists and cursor.version is not None:
            # The version this client was paging expired: restart on the current one.
            version, offset, cursor = store.current_trending_version() or trending_recompute(), 0, Cursor(kind="t")
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


def user_activity_recorded(*, user_id: int) -> None:
    from accounts.models import User

    User.objects.filter(id=user_id).update(last_seen_at=datetime.now(tz=UTC))
