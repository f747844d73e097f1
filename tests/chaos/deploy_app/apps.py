from django.apps import AppConfig


class DeployAppConfig(AppConfig):
    """The release a zero-downtime deploy test ships: one migration on a hot table."""

    name = "tests.chaos.deploy_app"
    label = "deploy_app"
