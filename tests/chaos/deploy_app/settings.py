"""The next release's settings in the deploy test: the product's plus its migration."""

from tiktok.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.chaos.deploy_app.apps.DeployAppConfig"]  # noqa: F405
