from django.apps import AppConfig


class VideosConfig(AppConfig):
    name = "videos"

    def celery_task_routes(self) -> dict:
        # A takedown must not wait behind transcodes (exact names win over patterns).
        return {
            "videos.tasks.video_quarantine_sync": {"queue": "default"},
            "videos.tasks.owner_media_sync": {"queue": "default"},  # suspension: quarantine now
            "videos.tasks.video_delete_objects": {"queue": "default"},  # owner delete: purge the CDN now
            "videos.tasks.*": {"queue": "media"},
        }

    def celery_beat_schedule(self) -> dict:
        from tiktok.celery import every

        return {
            "videos-delete-abandoned-uploads": {"task": "videos.tasks.delete_abandoned_uploads", **every(900.0)},
            "videos-requeue-stuck-processing": {"task": "videos.tasks.requeue_stuck_processing", **every(300.0)},
        }
