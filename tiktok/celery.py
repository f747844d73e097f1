"""The Celery app, configured from Django settings (``CELERY_*``).

Signals here carry two things from the request into the tasks it enqueues: the request
id (for logs) and the primary's WAL position after the request's writes (so the worker
reads from a replica only once the replica has what the request wrote). A task that
enqueues further tasks passes on the position it was given, so a fan-out batch reads at
least what the publish wrote, however far behind the replica is. The worker logs
through Django's ``LOGGING`` (request id filter, JSON with ``LOG_JSON=1``) rather than
Celery's own set-up, and logs one line when a task starts and one when it ends, both
carrying the request id. Metrics for tasks are connected in ``tiktok.metrics``. The
``OutboxRelay`` bootstep runs the outbox relay in every worker.

Task routes and beat entries are each app's: an ``AppConfig`` may define
``celery_task_routes()`` and ``celery_beat_schedule()`` (reading settings when called);
``configure_from_apps`` (run once Django has loaded every app) collects them.
"""

import logging
import logging.config
import os

import redis
from celery import Celery, bootsteps, signals
from kombu.transport import redis as kombu_redis

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tiktok.settings")

app = Celery("tiktok")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

from tiktok import metrics  # noqa: E402, F401 - connects the task metric signal handlers

logger = logging.getLogger(__name__)
_scopes: dict[str, object] = {}


def every(seconds: float, *, expires: float | None = None) -> dict:
    """A beat entry's options: a tick that is not run before the next one is dropped."""
    return {"schedule": seconds, "options": {"expires": expires if expires is not None else seconds}}


def _collected(method: str) -> dict:
    from django.apps import apps

    collected: dict = {}
    for config in apps.get_app_configs():
        declared = getattr(config, method, None)
        if declared is None:
            continue
        entries = declared()
        if overlap := collected.keys() & entries.keys():
            raise ValueError(f"{config.name} redeclares {sorted(overlap)} ({method})")
        collected |= entries
    return collected


def task_routes() -> dict:
    """Every app's task routes (exact task names win over patterns)."""
    return _collected("celery_task_routes")


def beat_schedule() -> dict:
    """Every app's beat entries."""
    return _collected("celery_beat_schedule")


def configure_from_apps() -> None:
    app.conf.task_routes = task_routes()
    app.conf.beat_schedule = beat_schedule()
    app.amqp.flush_routes()


def _restore_unacked_unless_disconnected(restore):
    """kombu 5.7, seen in ``make chaos``: when the durable Redis master dies, the consumer
    can close its channel after the transport has dropped its client; restoring the
    unacknowledged messages then raises ``AttributeError`` (not a connection error), and
    the worker exits with "Unrecoverable error" instead of reconnecting through Sentinel.
    Those messages stay in the unacked hash and the visibility-timeout sweep
    (``unacked_restore_interval``) requeues them; tasks are idempotent (``acks_late``)."""

    def restore_unacked(self, client=None):
        try:
            return restore(self, client)
        except (AttributeError, redis.exceptions.ConnectionError):
            if self.channel.connection is not None and self.channel.connection.client is not None:
                raise
            logger.warning("broker connection gone: %d unacked message(s) left to the sweep", len(self._delivered))
            return None

    return restore_unacked


kombu_redis.QoS.restore_unacked = _restore_unacked_unless_disconnected(kombu_redis.QoS.restore_unacked)


def _closed_channel_is_a_connection_error(connparams):
    """kombu 5.7, seen in ``make chaos``: a task that ended just before the durable Redis
    master died is acknowledged (``acks_late``) on its old channel after the consumer has
    reconnected through Sentinel. That channel's connection is gone, so building a client
    for the ack raised ``AttributeError``; Celery took it for a bug and the worker exited
    ("Unrecoverable error"). As a connection error, the failed ack is logged and the worker
    goes on: the message stays in the unacked hash and the visibility-timeout sweep delivers
    it again (tasks are idempotent)."""

    def _connparams(self, asynchronous=False):
        if self.connection is None or self.connection.client is None:
            raise redis.exceptions.ConnectionError("the channel's broker connection is closed")
        return connparams(self, asynchronous=asynchronous)

    return _connparams


kombu_redis.Channel._connparams = _closed_channel_is_a_connection_error(kombu_redis.Channel._connparams)


class OutboxRelay(bootsteps.StartStopStep):
    """Every worker's main process relays the outbox (``tiktok.outbox.Relay``, a thread):
    no fourth process type to run, and several workers share the rows (``SKIP LOCKED``).
    Started after the pool, so no pool process is forked with the relay's connections."""

    requires = {"celery.worker.components:Pool"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.relay = None

    def start(self, worker):
        from tiktok.outbox import Relay

        self.relay = Relay()
        self.relay.start()

    def stop(self, worker):
        if self.relay is not None:
            self.relay.stop()


app.steps["worker"].add(OutboxRelay)


@signals.setup_logging.connect
def _configure_logging(**kwargs):
    """Keep Django's logging (request ids, JSON) in the worker and beat: Celery skips its own."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@signals.before_task_publish.connect
def _add_context_headers(headers=None, **kwargs):
    from tiktok import db_router
    from tiktok.logging import current_request_id

    if headers is None:
        return
    headers.setdefault("request_id", current_request_id())
    position = db_router.position_for_subtasks()
    if position is not None:
        headers.setdefault("db_min_lsn", position)


@signals.task_prerun.connect
def _enter_task_scope(task_id=None, task=None, **kwargs):
    from tiktok import db_router
    from tiktok.logging import request_id_var

    request = task.request
    if getattr(request, "is_eager", False):
        return  # an eager task runs inside its caller's scope
    from django.db import close_old_connections

    close_old_connections()  # as a request starts: obsolete or broken ones (CELERY_DB_REUSE_MAX)
    request_id_var.set(getattr(request, "request_id", None) or f"task-{task_id}")
    min_lsn = getattr(request, "db_min_lsn", None)
    manager = db_router.scope(required_lsn=int(min_lsn) if min_lsn else None)
    manager.__enter__()
    _scopes[task_id] = manager
    logger.info("task %s[%s] started", task.name, task_id)


@signals.task_success.connect
def _outbox_rows_done(sender=None, **kwargs):
    """The task ran to success: its outbox rows (if the relay sent it) are not sent again.
    Before the broker's acknowledgement: a crash in between runs the task once more."""
    ids = getattr(sender.request, "outbox_ids", None) if sender is not None else None
    if ids and not getattr(sender.request, "is_eager", False):
        from tiktok import outbox

        outbox.done(ids)


@signals.task_postrun.connect
def _leave_task_scope(task_id=None, task=None, state=None, **kwargs):
    from tiktok.logging import request_id_var

    manager = _scopes.pop(task_id, None)
    if manager is not None:
        logger.info("task %s[%s] finished: %s", getattr(task, "name", "?"), task_id, state or "done")
        manager.__exit__(None, None, None)
        request_id_var.set("-")
        from django.db import close_old_connections

        close_old_connections()  # as a request ends
