"""Feed write side: fan-out of published videos, follow merges, purges, rebuilds, trending.

Other apps start this work through the outbox: ``videos`` and ``activity`` publish
events (publish and withdrawal, follow, unfollow, mute) that ``feed/handlers.py``
subscribes ``feed.tasks.*`` to, and ``moderation`` enqueues the suspension tasks; the
tasks call these services. Every service is safe to
run twice. ``feed/store.py`` owns the Redis keys; ``feed/selectors.py`` the SQL reads.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef, Q
from django.utils import timezone

from accounts.models import User
from activity.models import Block, Follow, Mute
from feed import selectors, store, trending_store
from feed.store import Entry
from tiktok import db_router, metrics
from tiktok.outbox import enqueue_on_commit
from videos.models import Video
from videos.selectors import feed_ids_by_video_id

logger = logging.getLogger(__name__)

# A rebuild keeps feed entries published from this long before it started: a video
# published while the rebuild read the database reaches the feed by fan-out, not by it.
REBUILD_OVERLAP_MICROSECONDS = 5_000_000
REMOVE_BATCH_SIZE = 1000  # feed ids per ZREM


def video_seen(*, viewer_id: int, video_id) -> None:
    """The viewer watched a video: later pages and sessions skip it (best effort)."""
    feed_id = feed_ids_by_video_id([video_id]).get(str(video_id))
    if feed_id is None:
        return  # deleted meanwhile: no feed shows it
    try:
        store.mark_seen(user_id=viewer_id, feed_id=feed_id)
    except store.REDIS_ERRORS:
        logger.warning("could not record seen video for user %s", viewer_id)


def feed_rebuild(*, user_id: int) -> int:
    """Rebuild one user's feed from the database; returns the number of entries.

    Reads at least everything committed before it started (a lagging replica must not
    drop recent videos), and keeps what fan-out added meanwhile.
    """
    started = selectors.score_of(timezone.now()) - REBUILD_OVERLAP_MICROSECONDS
    with db_router.reading_everything_committed():
        entries, big, _ = selectors.feed_source(user_id=user_id)
        for creator_id in big:
            _ensure_creator_videos(creator_id=creator_id)
    floor = entries[-1].score if len(entries) >= settings.FEED_MAX_ITEMS else 0
    store.write_feed(user_id=user_id, entries=entries, big_creator_ids=big, floor=floor, keep_from=started)
    store.count("rebuilds")
    return len(entries)


def _ensure_creator_videos(*, creator_id: int) -> None:
    """Seed a big creator's recent-videos set the first time they are seen as big."""
    if not store.is_big_creator_known(creator_id=creator_id):
        entries = selectors.creator_recent_entries(creator_id=creator_id, limit=settings.FEED_BIG_CREATOR_KEEP)
        store.set_creator_videos(creator_id=creator_id, entries=entries, keep=settings.FEED_BIG_CREATOR_KEEP)
        store.mark_big_creator(creator_id=creator_id)


def _published_entry(video_id: str) -> tuple[Entry, int, int] | None:
    """The feed entry of a public video, its creator and follower count; None if it is not
    public. Tasks read at least the publish's WAL position (``tiktok.celery``); a miss is
    still checked on the primary before the video is given up on."""

    def read():
        return (
            selectors.public_videos()
            .filter(id=video_id)
            .values_list("owner_id", "published_at", "owner__followers_count", "feed_id")
            .first()
        )

    row = read()
    if row is None:
        # primary: only when the replica lacks it: a video published a moment ago
        with db_router.use_primary():
            row = read()
    if row is None:
        return None
    owner_id, published_at, followers, feed_id = row
    entry = Entry(score=selectors.score_of(published_at), feed_id=feed_id, video_id=str(video_id))
    return entry, owner_id, followers


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
            for batch in selectors.follower_id_batches(creator_id=owner_id, batch_size=settings.FANOUT_BATCH_SIZE):
                enqueue_on_commit("feed.tasks.fanout_big_creator_followers", owner_id, batch)
        return
    yield from selectors.follower_id_batches(creator_id=owner_id, batch_size=settings.FANOUT_BATCH_SIZE)


def fanout_batch(*, video_id: str, follower_ids: list[int]) -> int:
    """Push one video into the built feeds of a batch of followers (idempotent)."""
    started = time.perf_counter()
    found = _batch_delivery(video_id=video_id, follower_ids=follower_ids)
    if found is None:
        return 0
    entry, hiding = found
    follower_ids = sorted(set(follower_ids) - hiding)
    added = store.add_to_feeds(user_ids=follower_ids, entry=entry) if follower_ids else 0
    metrics.observe_fanout(time.perf_counter() - started, 1)
    return added


def _batch_delivery(*, video_id: str, follower_ids: list[int]) -> tuple[Entry, set[int]] | None:
    """What a fan-out batch delivers, in one query on the primary: the video's entry, None if
    it is no longer public (a takedown after the plan stops the batches still queued), and
    which followers in the batch's id range block, are blocked by, or mute the creator (a
    replica that has not replayed a block's unfollow yet may still list them).

    The primary, because both answers must not be stale (and it has the publish however far
    the replica lags); the id range rather than the ids, because binding thousands of
    parameters per batch cost more than the rest of the batch (the range holds every id
    of a keyset batch and the creator-side indexes make it a short scan).
    """
    low, high = min(follower_ids), max(follower_ids)
    owner = OuterRef("owner_id")

    def in_batch(column: str) -> dict[str, int]:
        return {f"{column}__gte": low, f"{column}__lte": high}

    hiding = {
        "blockers": Block.objects.filter(blocked_id=owner, **in_batch("blocker_id")).values("blocker_id"),
        "blocked": Block.objects.filter(blocker_id=owner, **in_batch("blocked_id")).values("blocked_id"),
        "muters": Mute.objects.filter(muted_id=owner, **in_batch("muter_id")).values("muter_id"),
    }
    # primary: a block or mute made a moment ago must stop the delivery
    with db_router.use_primary():
        row = (
            selectors.public_videos()
            .filter(id=video_id)
            .annotate(**{name: ArraySubquery(query) for name, query in hiding.items()})
            .values_list("published_at", "feed_id", *hiding)
            .first()
        )
    if row is None:
        return None
    published_at, feed_id, *hiding_ids = row
    entry = Entry(score=selectors.score_of(published_at), feed_id=feed_id, video_id=str(video_id))
    return entry, set().union(*hiding_ids)


def _follows(*, follower_id: int, followee_id: int) -> bool:
    """Whether the follow exists now (on the primary: the decision must not be stale)."""
    # primary: the decision must not be stale (an unfollow a moment ago)
    with db_router.use_primary():
        return Follow.objects.filter(follower_id=follower_id, followee_id=followee_id).exists()


def _hiding_creator(*, creator_id: int, user_ids: list[int]) -> set[int]:
    """Which of ``user_ids`` blocked, were blocked by, or muted the creator (the primary)."""
    # primary: a block or mute made a moment ago must hide the creator
    with db_router.use_primary():
        blocked = Block.objects.filter(
            Q(blocker_id__in=user_ids, blocked_id=creator_id) | Q(blocked_id__in=user_ids, blocker_id=creator_id)
        ).values_list("blocker_id", "blocked_id")
        hiding = {blocker if blocker != creator_id else other for blocker, other in blocked}
        hiding |= set(
            Mute.objects.filter(muter_id__in=user_ids, muted_id=creator_id).values_list("muter_id", flat=True)
        )
    return hiding


def _hides(*, follower_id: int, creator_id: int) -> bool:
    return bool(_hiding_creator(creator_id=creator_id, user_ids=[follower_id]))


def follow_merge(*, follower_id: int, followee_id: int) -> None:
    """Follow: merge the creator's recent videos (or, for a big creator, their set).

    Merges and removals for one user run one at a time and re-check the follow inside
    the lock, so a quick follow/unfollow/follow settles on the final state whatever
    order the tasks run in.
    """
    with store.feed_update_lock(user_id=follower_id):
        if not _follows(follower_id=follower_id, followee_id=followee_id):
            return  # unfollowed again before this ran
        if _hides(follower_id=follower_id, creator_id=followee_id):
            return  # muted (or blocked) since
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
    """Unfollow, block or mute: remove the creator's videos from the follower's feed."""
    with store.feed_update_lock(user_id=follower_id):
        if _follows(follower_id=follower_id, followee_id=followee_id) and not _hides(
            follower_id=follower_id, creator_id=followee_id
        ):
            return  # followed again (and not muted) before this ran
        store.set_follows_big_creator(user_ids=[follower_id], creator_id=followee_id, following=False)
        feed_ids = selectors.creator_feed_ids_since(creator_id=followee_id, since_score=None)
        for start in range(0, len(feed_ids), REMOVE_BATCH_SIZE):
            store.remove_from_feed(user_id=follower_id, feed_ids=feed_ids[start : start + REMOVE_BATCH_SIZE])


def video_purge(*, video_id: str, owner_id: int | None, feed_id: int | None) -> None:
    """Remove a withdrawn video from every follower's feed, the creator set and trending.

    A deleted video's row is gone: its owner and feed id come from the task's arguments."""
    video = Video.objects.filter(id=video_id).values_list("owner_id", "feed_id").first()
    if selectors.public_videos().filter(id=video_id).exists():
        return  # restored before this ran
    owner_id, feed_id = video or (owner_id, feed_id)
    trending_store.remove_from_trending(video_id=video_id)
    if owner_id is None or feed_id is None:
        return
    store.remove_creator_video(creator_id=owner_id, feed_id=feed_id)
    for batch in selectors.follower_id_batches(creator_id=owner_id, batch_size=settings.FANOUT_BATCH_SIZE):
        store.remove_from_feeds(user_ids=batch, feed_id=feed_id)


def creator_withdraw(*, creator_id: int) -> None:
    """A suspended creator: their videos leave their followers' feeds and their own set
    (pages already drop them: their cards are not public)."""
    if not User.objects.filter(id=creator_id, suspended_at__isnull=False).exists():
        return  # reinstated before this ran
    feed_ids = selectors.creator_feed_ids_since(creator_id=creator_id, since_score=None)
    store.set_creator_videos(creator_id=creator_id, entries=[], keep=settings.FEED_BIG_CREATOR_KEEP)
    for batch in selectors.follower_id_batches(creator_id=creator_id, batch_size=settings.FANOUT_BATCH_SIZE):
        for start in range(0, len(feed_ids), REMOVE_BATCH_SIZE):
            store.remove_many_from_feeds(user_ids=batch, feed_ids=feed_ids[start : start + REMOVE_BATCH_SIZE])


def creator_restore(*, creator_id: int) -> None:
    """A reinstated creator: their recent videos return to their followers' built feeds (a
    big creator's set is seeded again instead)."""
    creator = User.objects.filter(id=creator_id, suspended_at__isnull=True).values_list("followers_count").first()
    if creator is None:
        return  # suspended again before this ran
    if creator[0] >= settings.BIG_CREATOR_FOLLOWERS:
        entries = selectors.creator_recent_entries(creator_id=creator_id, limit=settings.FEED_BIG_CREATOR_KEEP)
        store.set_creator_videos(creator_id=creator_id, entries=entries, keep=settings.FEED_BIG_CREATOR_KEEP)
        return
    entries = selectors.creator_recent_entries(creator_id=creator_id, limit=settings.FEED_FOLLOW_BACKFILL)
    for batch in selectors.follower_id_batches(creator_id=creator_id, batch_size=settings.FANOUT_BATCH_SIZE):
        followers = sorted(set(batch) - _hiding_creator(creator_id=creator_id, user_ids=batch))
        store.merge_into_feeds(user_ids=followers, entries=entries)


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
    return trending_store.publish_trending(ranked=ranked[: settings.TRENDING_MAX_ITEMS], keep_seconds=3600)


def user_activity_recorded(*, user_id: int) -> None:
    User.objects.filter(id=user_id).update(last_seen_at=datetime.now(tz=UTC))
