from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    default = True
    name = "accounts"


class AccountsAdminConfig(admin_apps.AdminConfig):
    """``django.contrib.admin`` with the project's site (``accounts.admin_site``); listed
    in INSTALLED_APPS in place of ``django.contrib.admin``."""

    default = False
    default_site = "accounts.admin_site.AdminSite"
