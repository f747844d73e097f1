from django.apps import AppConfig


class FeedConfig(AppConfig):
    name = "feed"

    def ready(self):
        from feed import handlers

        handlers.connect()

    def celery_task_routes(self) -> dict:
        return {"feed.tasks.fanout_*": {"queue": "fanout"}}

    def celery_beat_schedule(self) -> dict:
        from django.conf import settings as s

        from tiktok.celery import every

        return {
            "feed-refresh-active": {
                "task": "feed.tasks.refresh_active_feeds",
                **every(s.FEED_REFRESH_INTERVAL_SECONDS),
            },
            "feed-recompute-trending": {"task": "feed.tasks.recompute_trending", **every(s.TRENDING_INTERVAL_SECONDS)},
            "videos-recount-hashtags": {"task": "feed.tasks.recount_hashtags", **every(s.HASHTAG_RECOUNT_SECONDS)},
            "feed-for-you-engaged": {
                "task": "feed.tasks.refresh_engaged_for_you",
                **every(s.FOR_YOU_ENGAGED_INTERVAL_SECONDS),
            },
            "feed-for-you-active": {
                "task": "feed.tasks.refresh_active_for_you",
                **every(s.FEED_REFRESH_INTERVAL_SECONDS),
            },
            "feed-co-engagement": {
                "task": "feed.tasks.recompute_co_engagement",
                **every(s.FOR_YOU_CO_INTERVAL_SECONDS),
            },
            "feed-tag-pools": {
                "task": "feed.tasks.recompute_tag_pools",
                **every(s.FOR_YOU_TAG_POOLS_INTERVAL_SECONDS),
            },
            "feed-for-you-ranker": {
                "task": "feed.tasks.fit_for_you_ranker",
                **every(s.FOR_YOU_MODEL_INTERVAL_SECONDS),
            },
        }
