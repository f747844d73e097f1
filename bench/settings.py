"""Settings for the benchmark: the project's settings plus the ``bench`` app and its URLs.

``bench/run.py`` runs ``manage.py seed_bench`` and the gunicorn it measures with
``DJANGO_SETTINGS_MODULE=bench.settings``. The product settings never install ``bench``
and the product URLs never route its endpoints.
"""

from tiktok.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "bench"]  # noqa: F405
ROOT_URLCONF = "bench.urls"
