from django.apps import AppConfig


class WebConfig(AppConfig):
    """The reference web client served at ``/``: one page, static modules, the public API."""

    name = "web"
    verbose_name = "Web client"
