from django.apps import AppConfig


class DiscoveryConfig(AppConfig):
    name = "discovery"

    def celery_beat_schedule(self) -> dict:
        from django.conf import settings as s

        from tiktok.celery import every

        # The entries keep their names from before For You had its own app (the beat's
        # stored schedule state is keyed by them).
        return {
            "feed-for-you-engaged": {
                "task": "discovery.tasks.refresh_engaged_for_you",
                **every(s.FOR_YOU_ENGAGED_INTERVAL_SECONDS),
            },
            "feed-for-you-active": {
                "task": "discovery.tasks.refresh_active_for_you",
                **every(s.FEED_REFRESH_INTERVAL_SECONDS),
            },
            "feed-co-engagement": {
                "task": "discovery.tasks.recompute_co_engagement",
                **every(s.FOR_YOU_CO_INTERVAL_SECONDS),
            },
            "feed-tag-pools": {
                "task": "discovery.tasks.recompute_tag_pools",
                **every(s.FOR_YOU_TAG_POOLS_INTERVAL_SECONDS),
            },
            "feed-for-you-ranker": {
                "task": "discovery.tasks.fit_for_you_ranker",
                **every(s.FOR_YOU_MODEL_INTERVAL_SECONDS),
            },
        }
