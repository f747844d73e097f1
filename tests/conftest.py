"""Shared fixtures: the real database (primary + streaming replica), Redis, the store,
a real Celery worker process, and API clients."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connections
from rest_framework.test import APIClient

from tests.factories import UserFactory
from tests.helpers.api import client_for
from tests.helpers.stack import (
    REPLICA_SERVERS,
    REPO,
    WorkerProcess,
    wait_for_replica_to_catch_up,
)
from tiktok import db_router

# Fixtures more than one test area uses.
pytest_plugins = ["tests.helpers.fixtures"]


def pytest_collection_modifyitems(items):
    """Every database test may use every alias: the router picks replicas by itself."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker is not None and "databases" not in marker.kwargs:
            item.add_marker(pytest.mark.django_db(*marker.args, **marker.kwargs, databases="__all__"), append=False)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Create the test database on the primary only; replication copies it to the replica.

    The replica aliases are declared as test mirrors (so the runner neither creates nor
    flushes them); here they are pointed back at the real replica server.
    """
    test_name = connections["default"].settings_dict["NAME"]
    for alias, server in REPLICA_SERVERS.items():
        connection = connections[alias]
        connection.close()
        connection.settings_dict = {**connections["default"].settings_dict, **server, "NAME": test_name}
    with django_db_blocker.unblock():
        wait_for_replica_to_catch_up()
    yield
    for alias in REPLICA_SERVERS:
        connections[alias].close()


@pytest.fixture(scope="session", autouse=True)
def _one_run_per_redis_cluster():
    """A Redis Cluster has a single database: test runs against it take turns."""
    if not settings.REDIS_CACHE_CLUSTER:
        yield
        return
    import fcntl

    with open("/tmp/tiktok-test-redis-cluster.lock", "w") as lock:  # noqa: S108
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@pytest.fixture(autouse=True)
def _clean_redis_and_router():
    """Each test starts with empty cache/durable Redis databases and no replica marked down."""
    from django_redis import get_redis_connection

    for alias in ("default", "durable"):
        try:
            get_redis_connection(alias).flushdb()
        except Exception:  # noqa: BLE001, S110 - a test may have stopped Redis on purpose
            pass
    db_router._down_until.clear()
    db_router._process_states.clear()
    yield
    db_router._down_until.clear()


@pytest.fixture(autouse=True)
def _test_code_reads_the_primary():
    """Assertions in test code read the primary (what was just written).

    Requests made through the test client open their own routing scope in the
    middleware, and ``db_router.scope()`` in a test opens a fresh one: both route to
    the replica exactly as in production.
    """
    with db_router.use_primary():
        yield


@pytest.fixture(scope="session", autouse=True)
def _bucket():
    """The test bucket exists in the S3-compatible server."""
    from tiktok.storage import s3_client

    client = s3_client()
    try:
        client.head_bucket(Bucket=settings.AWS_STORAGE_BUCKET_NAME)
    except Exception:  # noqa: BLE001
        client.create_bucket(Bucket=settings.AWS_STORAGE_BUCKET_NAME)


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def make_user(db):
    return UserFactory


@pytest.fixture
def auth_client(user) -> APIClient:
    return client_for(user)


@pytest.fixture
def real_broker():
    """Publish through the real broker (no worker: the messages stay queued)."""
    from tiktok.celery import app

    app.conf.task_always_eager = False
    app.connection_for_write().default_channel.queue_purge("default")
    yield
    app.connection_for_write().default_channel.queue_purge("default")
    app.conf.task_always_eager = True


@pytest.fixture
def celery_worker(transactional_db, tmp_path):
    """A real worker process; tasks are enqueued through the real broker while it runs."""
    from tiktok.celery import app

    app.conf.task_always_eager = False
    with app.connection_for_write() as connection:
        for queue in ("default", "media", "fanout"):
            connection.default_channel.queue_purge(queue)
    worker = WorkerProcess(REPO / "test-artifacts" / f"worker-{tmp_path.name}.log")
    worker.start()
    yield worker
    worker.stop()
    app.conf.task_always_eager = True
