from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    default = True
    name = "accounts"

    def celery_task_routes(self) -> dict:
        # Image work beside the transcodes.
        return {"accounts.tasks.avatar_process": {"queue": "media"}}

    def celery_beat_schedule(self) -> dict:
        from tiktok.celery import every

        return {"accounts-delete-expired-tokens": {"task": "accounts.tasks.tokens_delete_expired", **every(3600.0)}}


class AccountsAdminConfig(admin_apps.AdminConfig):
    """``django.contrib.admin`` with the project's site (``accounts.admin_site``); listed
    in INSTALLED_APPS in place of ``django.contrib.admin``."""

    default = False
    default_site = "accounts.admin_site.AdminSite"
