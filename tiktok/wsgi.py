"""WSGI entry point: ``gunicorn tiktok.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tiktok.settings")

application = get_wsgi_application()
