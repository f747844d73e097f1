"""Shared fixtures: the real database (primary + streaming replica), Redis, the store,
a real Celery worker process, and API clients."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from rest_framework.test import APIClient

from tests.factories import PASSWORD, UserFactory
from tiktok import db_router

REPO = Path(__file__).resolve().parent.parent
STACK = REPO / "bin" / "stack"

# Where each replica really is, captured before the test runner points it at the primary.
_REPLICA_SERVERS = {
    alias: {key: settings.DATABASES[alias][key] for key in ("HOST", "PORT", "OPTIONS")}
    for alias in settings.DATABASES
    if alias != "default"
}


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
    for alias, server in _REPLICA_SERVERS.items():
        connection = connections[alias]
        connection.close()
        connection.settings_dict = {**connections["default"].settings_dict, **server, "NAME": test_name}
    with django_db_blocker.unblock():
        wait_for_replica_to_catch_up()
    yield
    for alias in _REPLICA_SERVERS:
        connections[alias].close()


def wait_for_replica_to_catch_up(timeout: float = 10.0) -> None:
    """Block until every replica has replayed everything committed on the primary (its WAL
    flush position: see ``db_router.primary_wal_position``)."""
    target = db_router.primary_wal_position()
    deadline = time.monotonic() + timeout
    for alias in _REPLICA_SERVERS:
        replayed, problem = None, None
        while True:
            try:
                with connections[alias].cursor() as cursor:
                    cursor.execute("SELECT (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint")
                    replayed = int(cursor.fetchone()[0])
                    if replayed >= target:
                        break
            except Exception as exc:  # noqa: BLE001 - replica restarting
                problem = exc
                connections[alias].close()
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"replica {alias} did not catch up within {timeout}s: target {target}, replayed {replayed},"
                    f" last error {problem!r}"
                )
            time.sleep(0.05)


@contextmanager
def replica_paused():
    """WAL replay held on the replica (it lags from now on: what it serves is stale); always
    resumed afterwards."""

    def run(sql: str) -> None:
        with connections["replica"].cursor() as cursor:
            cursor.execute(sql)

    run("SELECT pg_wal_replay_pause()")
    try:
        yield
    finally:
        run("SELECT pg_wal_replay_resume()")


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


def client_for(user) -> APIClient:
    """An API client logged in as ``user`` through the real login endpoint."""
    client = APIClient()
    response = client.post("/api/v1/auth/login", {"username": user.username, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['token']}")
    return client


@pytest.fixture
def auth_client(user) -> APIClient:
    return client_for(user)


def stack(*args: str) -> None:
    """Run ``bin/stack`` (fault injection: stop/start a service)."""
    subprocess.run([str(STACK), *args], check=True, cwd=REPO, timeout=120)


def worker_env() -> dict[str, str]:
    """Environment for a worker process that uses this test session's database."""
    test_name = connections["default"].settings_dict["NAME"]
    primary = connections["default"].settings_dict
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="tests.settings",
        TEST_SLOT=os.environ["TEST_SLOT"],
        CELERY_TASK_ALWAYS_EAGER="0",
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        REDIS_URL=settings.REDIS_URL,
        REDIS_DURABLE_URL=settings.REDIS_DURABLE_URL,
        AWS_STORAGE_BUCKET_NAME=settings.AWS_STORAGE_BUCKET_NAME,
        DATABASE_URL=f"postgres://{primary['USER']}:{primary['PASSWORD']}@{primary['HOST']}:{primary['PORT']}/{test_name}",
        DATABASE_REPLICA_URLS=",".join(
            f"postgres://{primary['USER']}:{primary['PASSWORD']}@{server['HOST']}:{server['PORT']}/{test_name}"
            for server in _REPLICA_SERVERS.values()
        ),
        PYTHONUNBUFFERED="1",
    )
    return env


class WorkerProcess:
    """A real ``celery worker`` subprocess on the test broker."""

    def __init__(self, log_path: Path, concurrency: int = 2, extra_env: dict[str, str] | None = None):
        # A fresh log per test (a test that restarts its worker appends to it): lines an
        # earlier run left under the same name must not satisfy this run's assertions.
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_bytes(b"")
        self.log_path = log_path
        self.concurrency = concurrency
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        offset = log.tell()  # the log is appended to: an earlier run's "ready." does not count
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "tiktok",
                "worker",
                "-Q",
                "default,media,fanout",
                "-c",
                str(self.concurrency),
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                "INFO",
                "-n",
                f"test-{os.getpid()}-{time.monotonic_ns()}@%h",
            ],
            cwd=REPO,
            env=worker_env() | self.extra_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill_all() reaches the pool too
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if b" ready." in self.log_path.read_bytes()[offset:]:
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited: {self.log_path.read_text()[-2000:]}")
            time.sleep(0.2)
        raise TimeoutError(f"worker not ready: {self.log_path.read_text()[-2000:]}")

    def kill_all(self) -> None:
        """SIGKILL the worker and its pool processes at once (a crashed machine)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self, *, kill: bool = False) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


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


def wait_until(predicate, *, timeout: float = 30.0, interval: float = 0.1, message: str = "condition"):
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)
