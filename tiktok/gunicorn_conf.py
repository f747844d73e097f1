"""Gunicorn settings shared by ``bin/run`` and the container: ``gunicorn -c python:tiktok.gunicorn_conf``.

Command-line flags override these values. Only what every deployment needs lives here:
gthread workers, sizes from the environment, the access log (opt-in) and the Prometheus
multiprocess clean-up.
"""

import gc
import os

from tiktok.metrics import gunicorn_child_exit

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")  # noqa: S104 - inside a container or behind a proxy
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "10"))
keepalive = 5
# A worker restarts after this many requests (plus jitter), bounding slow leaks. Booting one
# takes ~0.6 s of its CPU (Django, the URL conf, connections), so the bound is set for a
# worker serving ~1,000 feed pages a second: a restart every few minutes, not every few
# seconds (at 5,000 that was ~10 % of a worker's capacity and a latency spike each time).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "100000"))
max_requests_jitter = 10_000
# Off unless GUNICORN_ACCESS_LOG names a file ("-" for stdout): the proxy in front logs
# every request with its request id (docker/nginx/nginx.conf), and gunicorn's own line
# costs about 50 us of worker CPU per request (16 % of a bare Django view's req/s, measured).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None


def child_exit(server, worker):
    gunicorn_child_exit(server, worker)


def post_worker_init(worker):
    """Move everything loaded at boot (Django, the apps, the URL conf: ~130,000 objects, alive
    as long as the worker) out of the collector's reach: a full collection walked them all,
    ~65 ms with the worker answering nothing (one in the first 1,800 feed requests after
    boot, measured): a latency spike for every request queued behind it."""
    gc.freeze()
