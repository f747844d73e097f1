"""Prometheus metrics: every metric object of the project, the middleware, and ``/metrics``.

Other modules never create metrics; they call the helpers here
(``observe_feed_request``, ``count_feed_event``, ``observe_fanout``).

Several processes serve the app (gunicorn workers, Celery prefork children), and each
counts only what it did. With ``PROMETHEUS_MULTIPROC_DIR`` set (before the process
starts: ``prometheus_client`` reads it at import), every process writes its values to
files in that directory and ``/metrics`` sums the files of all processes that share
it. The directory must be emptied when the process group starts (``bin/run`` and
``docker/entrypoint.sh`` do). Without it, the process's default registry is served.

``/metrics`` needs no login; it answers only addresses in ``METRICS_ALLOWED_IPS``
(loopback and private ranges by default). The proxy in front must not forward it.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import time
from functools import lru_cache

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
# prometheus_client turns multiprocess mode on when the variable merely exists, and an
# empty value (how the container's health checks and tests switch it off) then writes
# its counter_<pid>.db files into the working directory. Empty means off: it must be
# gone before prometheus_client is first imported.
if os.environ.get(MULTIPROCESS_ENV) == "":
    del os.environ[MULTIPROCESS_ENV]

from celery import signals  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.exceptions import PermissionDenied  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from prometheus_client import (  # noqa: E402
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

logger = logging.getLogger(__name__)

UNMATCHED_ROUTE = "unmatched"
FEED_EVENTS = ("hit", "miss", "rebuild", "degraded")

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0)
TASK_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)

# --- the metric objects ---------------------------------------------------------------

HTTP_REQUESTS = Counter(
    "http_requests_total", "HTTP responses by method, URL pattern name and status.", ["method", "route", "status"]
)
HTTP_REQUEST_DURATION = Histogram(
    "http_request_duration_seconds",
    "Time to answer a request, by URL pattern name.",
    ["route"],
    buckets=LATENCY_BUCKETS,
)
FEED_REQUEST_DURATION = Histogram(
    "feed_request_duration_seconds", "Time to assemble one page of the personal feed.", buckets=LATENCY_BUCKETS
)
FEED_CACHE_EVENTS = Counter(
    "feed_cache_events_total", "Feed reads by outcome: hit, miss, rebuild, degraded.", ["event"]
)
FANOUT_DURATION = Histogram(
    "fanout_duration_seconds", "Time to write one fan-out batch into followers' feeds.", buckets=TASK_BUCKETS
)
FANOUT_BATCHES = Counter("fanout_batches_total", "Follower batches written by the fan-out.")
CELERY_TASK_FAILURES = Counter("celery_task_failures_total", "Celery tasks that raised, by task name.", ["task"])
CELERY_TASK_DURATION = Histogram(
    "celery_task_duration_seconds", "Celery task run time, by task name.", ["task"], buckets=TASK_BUCKETS
)

# One child per outcome, made here: exported as 0 before the first event, and counting
# needs no ``labels()`` lookup on the hot path.
_FEED_EVENT_COUNTERS = {event: FEED_CACHE_EVENTS.labels(event=event) for event in FEED_EVENTS}


# --- helpers the application calls ------------------------------------------------------


def observe_feed_request(seconds: float) -> None:
    """One feed page took ``seconds`` to assemble."""
    FEED_REQUEST_DURATION.observe(seconds)


def count_feed_event(event: str) -> None:
    """Count a feed read outcome: ``hit``, ``miss``, ``rebuild`` or ``degraded``."""
    counter = _FEED_EVENT_COUNTERS.get(event)
    if counter is None:
        raise ValueError(f"unknown feed event {event!r}; expected one of {FEED_EVENTS}")
    counter.inc()


def observe_fanout(seconds: float, batches: int) -> None:
    """Fan-out work that took ``seconds`` and wrote ``batches`` follower batches (usually one)."""
    FANOUT_DURATION.observe(seconds)
    FANOUT_BATCHES.inc(batches)


# --- HTTP -------------------------------------------------------------------------------


def route_of(request) -> str:
    """The resolved URL pattern's name (bounded cardinality), never the raw path."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return UNMATCHED_ROUTE
    return match.view_name or match.route or UNMATCHED_ROUTE


# The labelled children, looked up once per label set (``labels()`` validates and locks on
# every call). Bounded: a client may send any method name.
@lru_cache(maxsize=1024)
def _request_duration(route: str):
    return HTTP_REQUEST_DURATION.labels(route=route)


@lru_cache(maxsize=1024)
def _requests_counter(method: str, route: str, status: int):
    return HTTP_REQUESTS.labels(method=method, route=route, status=str(status))


class PrometheusMiddleware:
    """Count every response and time it, labelled by route (URL pattern name)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        route = route_of(request)
        _request_duration(route).observe(time.perf_counter() - started)
        _requests_counter(request.method, route, response.status_code).inc()
        return response


@lru_cache(maxsize=8)
def _networks(allowed: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in allowed)


def client_allowed(address: str) -> bool:
    """Whether ``address`` (the TCP peer, never a forwarded header) may read /metrics."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _networks(tuple(settings.METRICS_ALLOWED_IPS)))


def registry() -> CollectorRegistry:
    """The registry to expose: all processes' files in multiprocess mode, else this process."""
    if os.environ.get(MULTIPROCESS_ENV):
        collected = CollectorRegistry()
        multiprocess.MultiProcessCollector(collected)
        return collected
    return REGISTRY


def render() -> bytes:
    return generate_latest(registry())


def metrics_view(request):
    """``GET /metrics`` in the Prometheus text format, for allowed addresses only."""
    if not client_allowed(request.META.get("REMOTE_ADDR", "")):
        raise PermissionDenied("Metrics are only served to allowed addresses.")
    return HttpResponse(render(), content_type=CONTENT_TYPE_LATEST)


# --- Celery -----------------------------------------------------------------------------

_task_started: dict[str, float] = {}


@signals.task_prerun.connect
def _task_timer_start(task_id=None, **kwargs):
    _task_started[task_id] = time.perf_counter()


@signals.task_postrun.connect
def _task_timer_stop(task_id=None, task=None, **kwargs):
    started = _task_started.pop(task_id, None)
    if started is not None and task is not None:
        CELERY_TASK_DURATION.labels(task=task.name).observe(time.perf_counter() - started)


@signals.task_failure.connect
def _task_failed(sender=None, **kwargs):
    CELERY_TASK_FAILURES.labels(task=getattr(sender, "name", "unknown")).inc()


@signals.worker_ready.connect
def _serve_worker_metrics(**kwargs):
    """A worker with ``CELERY_METRICS_PORT`` set serves its metrics on that port.

    Needed where the worker does not share ``PROMETHEUS_MULTIPROC_DIR`` with a web
    process (one container each); ``bin/run`` shares the directory instead.
    """
    port = os.environ.get("CELERY_METRICS_PORT")
    if port:
        from prometheus_client import start_http_server

        start_http_server(int(port), registry=registry())
        logger.info("worker metrics on port %s", port)


@signals.worker_process_shutdown.connect
def _forget_dead_child(pid=None, **kwargs):
    if os.environ.get(MULTIPROCESS_ENV):
        multiprocess.mark_process_dead(pid or os.getpid())


def gunicorn_child_exit(server, worker) -> None:
    """Gunicorn hook (see ``tiktok/gunicorn_conf.py``): drop a dead worker's live gauges."""
    if os.environ.get(MULTIPROCESS_ENV):
        multiprocess.mark_process_dead(worker.pid)
