from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data for local development (``seed_demo``); installed outside production only."""

    name = "demo"
