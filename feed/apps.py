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
        }
