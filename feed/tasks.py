"""Feed tasks: each takes ids, calls a service, and is safe to run twice.

Fan-out tasks (``fanout_*``) are routed to the ``fanout`` queue; one subtask per batch
of followers so a large audience spreads across workers.
"""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from feed import selectors, services, store
from tiktok.outbox import enqueue_on_commit, enqueue_spread
from videos import hashtags

RETRY = {"autoretry_for": store.REDIS_ERRORS, "retry_backoff": True, "retry_jitter": True, "max_retries": 5}


@shared_task(name="feed.tasks.fanout_video", **RETRY)
def fanout_video(video_id: str) -> int:
    """Record one batch task per follower batch in the outbox, each committed at once (so
    workers start on the first batch while later ones are read), never lost on the way."""
    count = 0
    for batch in services.fanout_plan(video_id=video_id):
        enqueue_on_commit("feed.tasks.fanout_batch", video_id, batch)
        count += 1
    return count


@shared_task(name="feed.tasks.fanout_batch", **RETRY)
def fanout_batch(video_id: str, follower_ids: list[int]) -> int:
    return services.fanout_batch(video_id=video_id, follower_ids=follower_ids)


@shared_task(name="feed.tasks.fanout_big_creator_followers", **RETRY)
def fanout_big_creator_followers(creator_id: int, follower_ids: list[int]) -> None:
    """A creator just became big: their followers' feeds start merging them at read time."""
    store.set_follows_big_creator(user_ids=follower_ids, creator_id=creator_id, following=True)


@shared_task(name="feed.tasks.purge_video", **RETRY)
def purge_video(video_id: str, owner_id: int | None = None, feed_id: int | None = None) -> None:
    services.video_purge(video_id=video_id, owner_id=owner_id, feed_id=feed_id)


@shared_task(name="feed.tasks.creator_withdrawn", **RETRY)
def creator_withdrawn(creator_id: int) -> None:
    services.creator_withdraw(creator_id=creator_id)


@shared_task(name="feed.tasks.creator_restored", **RETRY)
def creator_restored(creator_id: int) -> None:
    services.creator_restore(creator_id=creator_id)


@shared_task(name="feed.tasks.merge_creator_into_feed", **RETRY)
def merge_creator_into_feed(follower_id: int, followee_id: int) -> None:
    services.follow_merge(follower_id=follower_id, followee_id=followee_id)


@shared_task(name="feed.tasks.remove_creator_from_feed", **RETRY)
def remove_creator_from_feed(follower_id: int, followee_id: int) -> None:
    services.follow_unmerge(follower_id=follower_id, followee_id=followee_id)


@shared_task(name="feed.tasks.record_feed_read")
def record_feed_read(user_id: int) -> None:
    services.user_activity_recorded(user_id=user_id)


@shared_task(name="feed.tasks.rebuild_feed", **RETRY)
def rebuild_feed(user_id: int) -> int:
    return services.feed_rebuild(user_id=user_id)


@shared_task(name="feed.tasks.refresh_active_feeds")
def refresh_active_feeds() -> int:
    """Rebuild the feeds of recently active users, spread over the refresh interval."""
    since = timezone.now() - timedelta(hours=settings.FEED_ACTIVE_REFRESH_HOURS)
    user_ids = selectors.recently_active_user_ids(since=since)
    spread = max(int(settings.FEED_REFRESH_INTERVAL_SECONDS) - 60, 1)
    return enqueue_spread("feed.tasks.rebuild_feed", user_ids, seconds=spread)


@shared_task(name="feed.tasks.recompute_trending", **RETRY)
def recompute_trending() -> str:
    return services.trending_recompute()


# --- Hashtags (For You's tasks: ``discovery.tasks``) ----------------------------------------


@shared_task(name="feed.tasks.recount_hashtags")
def recount_hashtags() -> int:
    """Recount ``Hashtag.video_count`` (public videos per tag) exactly; see ``videos.hashtags``."""
    return hashtags.hashtag_counts_recount()
