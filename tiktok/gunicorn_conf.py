"""Gunicorn settings shared by ``bin/run`` and the container: ``gunicorn -c python:tiktok.gunicorn_conf``.

Command-line flags override these values. Only what every deployment needs lives here:
gthread workers, sizes from the environment, and the Prometheus multiprocess clean-up.
"""

import os

from tiktok.metrics import gunicorn_child_exit

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")  # noqa: S104 - inside a container or behind a proxy
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "10"))
keepalive = 5
# A worker restarts after this many requests (plus jitter), bounding slow leaks.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = 500
accesslog = "-"


def child_exit(server, worker):
    gunicorn_child_exit(server, worker)
