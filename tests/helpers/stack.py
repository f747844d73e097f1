"""The test stack from outside: replicas, bin/stack, worker processes, polling."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connections

from tiktok import db_router

REPO = Path(__file__).resolve().parents[2]


STACK = REPO / "bin" / "stack"


# Where each replica really is, captured before the test runner points it at the primary.
REPLICA_SERVERS = {
    alias: {key: settings.DATABASES[alias][key] for key in ("HOST", "PORT", "OPTIONS")}
    for alias in settings.DATABASES
    if alias != "default"
}


def wait_for_replica_to_catch_up(timeout: float = 10.0) -> None:
    """Block until every replica has replayed everything committed on the primary (its WAL
    flush position: see ``db_router.primary_wal_position``)."""
    target = db_router.primary_wal_position()
    deadline = time.monotonic() + timeout
    for alias in REPLICA_SERVERS:
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
            for server in REPLICA_SERVERS.values()
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
