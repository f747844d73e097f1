"""With a replicated broker (``OUTBOX_BROKER_MIN_REPLICAS``), the relay deletes a batch's
outbox rows only once a replica of the broker has its messages (Redis ``WAIT``): a master
that dies before passing them on cannot take a task with it. A real replica of the test
broker (a ``redis-server`` started here) is frozen with SIGSTOP to hold the window open."""

import os
import shutil
import signal
import socket
import subprocess
from urllib.parse import urlsplit

import pytest
import redis
from django.conf import settings
from django.db import transaction

from tests.helpers.broker import queued_messages
from tests.helpers.stack import wait_until
from tiktok import outbox
from tiktok.models import OutboxMessage

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]


def broker_port() -> int:
    return urlsplit(settings.CELERY_BROKER_URL).port


def attached_replicas() -> list[dict]:
    """The broker's replicas as its ``INFO replication`` lists them (port, state ...)."""
    info = redis.Redis(port=broker_port()).info("replication")
    return [value for key, value in info.items() if key.startswith("slave") and key[5:].isdigit()]


@pytest.fixture
def broker_replica(tmp_path):
    """A replica of the test broker, online; yields its process (resumed and stopped after)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp_path), "--save", ""]
        + ["--appendonly", "no", "--replicaof", "127.0.0.1", str(broker_port())],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(
            lambda: any(int(r["port"]) == port and r["state"] == "online" for r in attached_replicas()),
            timeout=30,
            message="the replica to come online",
        )
        yield process
    finally:
        os.kill(process.pid, signal.SIGCONT)
        process.terminate()
        process.wait(timeout=30)


def record_follow_task() -> None:
    with transaction.atomic():
        outbox.enqueue_on_commit("feed.tasks.merge_creator_into_feed", 1, 2)


def test_without_a_replica_attached_the_rows_wait_and_nothing_is_published(real_broker, settings):
    settings.OUTBOX_BROKER_MIN_REPLICAS = 1
    assert attached_replicas() == []
    record_follow_task()
    with pytest.raises(outbox.PublishFailed, match="0 of 1 replica"):
        outbox.relay_batch(limit=10)
    assert queued_messages() == []
    kept = OutboxMessage.objects.get()
    assert (kept.task_name, kept.attempts) == ("feed.tasks.merge_creator_into_feed", 1)
    assert "replica" in kept.last_error


def test_a_batch_the_replica_has_not_acknowledged_stays_in_the_outbox_until_it_has(
    real_broker, broker_replica, settings
):
    settings.OUTBOX_BROKER_MIN_REPLICAS = 1
    settings.OUTBOX_BROKER_REPLICA_TIMEOUT_MS = 200
    record_follow_task()
    os.kill(broker_replica.pid, signal.SIGSTOP)  # attached, but acknowledges nothing
    with pytest.raises(outbox.PublishFailed, match="0 of 1"):
        outbox.relay_batch(limit=10)
    # The master has the message, but a failover to the replica could lose it: the row stays.
    assert queued_messages() == [("feed.tasks.merge_creator_into_feed", [1, 2])]
    assert OutboxMessage.objects.count() == 1

    os.kill(broker_replica.pid, signal.SIGCONT)
    assert outbox.relay_batch(limit=10) == 1
    assert outbox.pending_count() == 0
    # Sent again (tasks are idempotent): the replica acknowledged this copy.
    assert queued_messages() == [("feed.tasks.merge_creator_into_feed", [1, 2])] * 2


def test_a_broker_without_replicas_configured_does_not_wait(real_broker, settings):
    settings.OUTBOX_BROKER_MIN_REPLICAS = 0
    record_follow_task()
    assert outbox.relay_batch(limit=10) == 1
    assert outbox.pending_count() == 0
