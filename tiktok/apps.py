from django.apps import AppConfig


class TiktokConfig(AppConfig):
    name = "tiktok"

    def ready(self):
        # Every app is loaded now: the Celery app takes their task routes and beat entries.
        from tiktok.celery import configure_from_apps

        configure_from_apps()

    def celery_beat_schedule(self) -> dict:
        from django.conf import settings

        from tiktok.celery import every

        return {
            "worker-heartbeat": {"task": "tiktok.tasks.worker_heartbeat", **every(settings.WORKER_HEARTBEAT_SECONDS)},
            "outbox-drain": {"task": "tiktok.tasks.drain_outbox", **every(10.0)},
            "idempotency-delete-expired": {"task": "tiktok.tasks.idempotency_records_delete_expired", **every(3600.0)},
        }
