from django.apps import AppConfig


class ActivityConfig(AppConfig):
    name = "activity"

    def ready(self):
        from activity.notifications import handlers

        handlers.connect()

    def celery_beat_schedule(self) -> dict:
        from django.conf import settings

        from tiktok.celery import every

        return {
            "activity-flush-counters": {
                "task": "activity.tasks.flush_counters",
                **every(settings.COUNTER_FLUSH_SECONDS),
            },
            "activity-recount-counters": {
                "task": "activity.tasks.recount_counters",
                **every(3600.0, expires=1800.0),
            },
            "activity-expire-notifications": {"task": "activity.tasks.notifications_expire", **every(3600.0)},
        }
