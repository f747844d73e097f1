"""A minimal Django project for the ``bare`` bench scenario: the least a Django view costs.

No apps, no middleware, no database, no templates: one URLconf with one view. Served by
the same gunicorn configuration as the project (``bench/run.py``), measured in the same
window, so the project's figures can be read as a fraction of what Django itself allows
on this machine.
"""

SECRET_KEY = "bench-bare-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"  # noqa: S105 - never deployed
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.bare.urls"
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
DATABASES: dict = {}
USE_TZ = True
