"""For You tasks: rebuild the ranked lists (debounced after engagement, spread over the
active users), recompute co-engagement and hashtag pools, refit the ranker. Each takes ids
(or nothing), is safe to run twice, and retries while the cache Redis is unavailable.
"""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from discovery import for_you, pools, store, training
from feed import selectors
from feed.store import REDIS_ERRORS
from tiktok.outbox import enqueue, enqueue_spread

RETRY = {"autoretry_for": REDIS_ERRORS, "retry_backoff": True, "retry_jitter": True, "max_retries": 5}


@shared_task(name="discovery.tasks.rebuild_for_you", **RETRY)
def rebuild_for_you(user_id: int) -> int:
    return for_you.for_you_rebuild(user_id=user_id)


@shared_task(name="discovery.tasks.refresh_engaged_for_you")
def refresh_engaged_for_you() -> int:
    """Rebuild (debounced) the For You lists of users who liked, favorited or watched
    something in the last two ticks: new engagement shows within about a tick."""
    since = timezone.now() - timedelta(seconds=2 * settings.FOR_YOU_ENGAGED_INTERVAL_SECONDS + 5)
    queued = 0
    for user_id in for_you.recently_engaged_user_ids(since=since):
        if store.claim_rebuild(user_id=user_id, seconds=settings.FOR_YOU_REBUILD_DEBOUNCE_SECONDS):
            enqueue("discovery.tasks.rebuild_for_you", user_id)
            queued += 1
    return queued


@shared_task(name="discovery.tasks.refresh_active_for_you")
def refresh_active_for_you() -> int:
    """Rebuild the For You lists of recently active users, spread over the interval."""
    since = timezone.now() - timedelta(hours=settings.FEED_ACTIVE_REFRESH_HOURS)
    user_ids = selectors.recently_active_user_ids(since=since)
    spread = max(int(settings.FEED_REFRESH_INTERVAL_SECONDS) - 60, 1)
    return enqueue_spread("discovery.tasks.rebuild_for_you", user_ids, seconds=spread)


@shared_task(name="discovery.tasks.recompute_co_engagement", **RETRY)
def recompute_co_engagement() -> int:
    return pools.co_engagement_recompute()


@shared_task(name="discovery.tasks.recompute_tag_pools", **RETRY)
def recompute_tag_pools() -> int:
    return pools.tag_pools_recompute()


@shared_task(name="discovery.tasks.fit_for_you_ranker", **RETRY)
def fit_for_you_ranker() -> dict:
    return training.ranker_fit()
