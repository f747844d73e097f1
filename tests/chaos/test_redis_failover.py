"""The durable Redis master SIGKILLed under load (``make chaos``, the ``STACK_HA=1`` topology).

A real gunicorn and a real Celery worker run on a database of their own with the durable
Redis (Celery broker, counter deltas, tokens) behind Sentinel (bin/stack-ha: master,
replica, three sentinels). Users follow creators, like and comment on their videos, and
read their feed in a loop; every write enqueues a task through the outbox (a notification
for the creator, a feed merge for a follow). The Redis master is SIGKILLed. Measured:
seconds until a task enqueued after the kill runs, ``GET /feed`` answers, and - after
the outbox is drained - every acknowledged write checked row by row for its task's
effect (the creator's notification). The killed master is started again once its
replica is promoted (as a supervisor would): the relay hands the broker nothing a replica
has not acknowledged, so tasks flow again once it has rejoined as the new replica.
Figures go to test-artifacts/chaos-redis-failover.json.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time

import psycopg
import pytest
import requests

from tests.helpers.ha import answers, free_port, ha, ha_env, login
from tests.helpers.stack import REPO, wait_until

pytestmark = [pytest.mark.chaos, pytest.mark.slow]

DATABASE = "tiktok_chaos_redis"
USERS = 6
CREATORS = 40
# Promotion (~2.5 s), then the killed master restarted, turned into the new master's
# replica by Sentinel and synced: only then does the relay hand the broker anything.
TASKS_BACK_WITHIN_SECONDS = 30
ARTIFACTS = REPO / "test-artifacts"
STACK_REDIS_HA_PORTS = os.environ.get("STACK_REDIS_HA_PORTS", "61383 61384").split()


def _sentinel_env() -> dict[str, str]:
    # A message the dying master had handed over but not replicated as unacknowledged is
    # gone from the promoted one; its outbox row is sent again once it is this old (in
    # production, after the visibility timeout), within the test's wait for every task.
    env = ha_env(DATABASE, NOTIFICATION_MAX_PER_RECIPIENT="100000", OUTBOX_RESEND_AFTER_SECONDS="30")
    assert env.get("REDIS_SENTINELS"), "bin/stack env did not select Sentinel"
    return env


SEED = """
import json
from tests.factories import UserFactory, VideoFactory
users = [UserFactory() for _ in range({users})]
videos = [VideoFactory() for _ in range({creators})]
print(json.dumps({{"users": [u.username for u in users],
                  "creators": [[v.owner.username, str(v.id)] for v in videos]}}))
"""


def psql(port: str, sql: str) -> None:
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-c", sql], check=True, capture_output=True
    )


@pytest.fixture(scope="module")
def database():
    ha("up")
    env = _sentinel_env()
    port = ha("primary").split()[1]
    psql(port, f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    psql(
        port,
        f"CREATE DATABASE {DATABASE} OWNER tiktok ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
        " TEMPLATE template0",
    )
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput"], cwd=REPO, env=env, check=True, capture_output=True, timeout=300)
    seeded = subprocess.run(
        [*manage, "shell", "-c", SEED.format(users=USERS, creators=CREATORS)],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return {"env": env, **json.loads(seeded.stdout.strip().splitlines()[-1])}


@pytest.fixture(scope="module")
def app(database, tmp_path_factory):
    """A gunicorn and a Celery worker on ``database`` (the worker relays the outbox)."""
    env = database["env"]
    ARTIFACTS.mkdir(exist_ok=True)
    web_log = open(ARTIFACTS / "chaos-redis-failover-web.log", "ab")  # noqa: SIM115 - closed below
    worker_log_path = ARTIFACTS / "chaos-redis-failover-worker.log"
    worker_log = open(worker_log_path, "ab")  # noqa: SIM115 - closed below
    web_port = free_port()
    web = subprocess.Popen(
        [str(REPO / ".venv" / "bin" / "gunicorn"), "tiktok.wsgi", "-c", "python:tiktok.gunicorn_conf"]
        + ["-b", f"127.0.0.1:{web_port}", "-w", "2", "--threads", "4"],
        cwd=REPO,
        env=env | {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path_factory.mktemp("metrics"))},
        stdout=web_log,
        stderr=subprocess.STDOUT,
    )
    mark = worker_log_path.stat().st_size
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tiktok", "worker", "-Q", "default,media,fanout", "-c", "2"]
        + [
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "INFO",
            "-n",
            f"redis-chaos-{os.getpid()}@%h",
        ],
        cwd=REPO,
        env=env,
        stdout=worker_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{web_port}"
    wait_until(lambda: answers(f"{base}/healthz"), timeout=60, message="gunicorn")
    wait_until(lambda: b" ready." in worker_log_path.read_bytes()[mark:], timeout=60, message="the worker")
    yield {"base": base, **database}
    web.terminate()
    os.killpg(worker.pid, signal.SIGTERM)
    for process in (web, worker):
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    web_log.close()
    worker_log.close()


class Load:
    """USERS threads, each following a creator, liking and commenting on their video and
    reading the feed, creator after creator, then commenting on to the end."""

    def __init__(self, base: str, usernames: list[str], creators: list[list[str]]):
        self.base = base
        self.sessions = [login(base, name) for name in usernames]
        self.names = usernames
        self.creators = creators
        self.stop = threading.Event()
        self.lock = threading.Lock()
        # (when the request was sent, kind, actor, target): target is the followee, the
        # liked video or the comment id.
        self.acknowledged: list[tuple[float, str, str, str]] = []
        self.write_failures: list[tuple[float, str, int]] = []
        self.feed_reads = 0
        self.feed_failures: list[tuple[float, int | str]] = []
        self.degraded_feed_reads = 0
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True) for i in range(len(self.sessions))]

    def start(self):
        for thread in self.threads:
            thread.start()

    def join(self):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def write(self, session, kind: str, actor: str, url: str, body: dict | None, target: str | None) -> None:
        sent = time.monotonic()
        try:
            # Follow and like are PUT (idempotent); a comment is a POST.
            response = session.request("POST" if body else "PUT", url, json=body, timeout=10)
            status = response.status_code
        except requests.RequestException:
            status = 0
        with self.lock:
            if status in (200, 201):
                self.acknowledged.append((sent, kind, actor, target or str(response.json()["id"])))
            else:
                self.write_failures.append((sent, kind, status))

    def run(self, index: int) -> None:
        session, actor = self.sessions[index], self.names[index]
        creators = list(self.creators)
        random.Random(index).shuffle(creators)
        api = f"{self.base}/api/v1"
        step = 0
        while not self.stop.is_set():
            creator, video = creators[step % len(creators)]
            if step < len(creators):
                self.write(session, "follow", actor, f"{api}/users/{creator}/follow", None, creator)
                self.write(session, "like", actor, f"{api}/videos/{video}/like", None, video)
            self.write(session, "comment", actor, f"{api}/videos/{video}/comments", {"text": f"{actor}-{step}"}, None)
            try:
                response = session.get(f"{api}/feed", timeout=10)
                read: int | str = response.status_code
                degraded = "X-Feed-Degraded" in response.headers
            except requests.RequestException as exc:
                read, degraded = type(exc).__name__, False
            with self.lock:
                self.feed_reads += 1
                self.degraded_feed_reads += degraded
                if read != 200:
                    self.feed_failures.append((time.monotonic(), read))
            step += 1
            time.sleep(0.05)


CHECK = """
SELECT 'comment', u.username, n.comment_id::text
  FROM activity_notification n JOIN activity_comment c ON c.id = n.comment_id
  JOIN accounts_user u ON u.id = c.author_id
 WHERE n.kind = 'comment'
UNION ALL
SELECT n.kind, actor.username, CASE WHEN n.kind = 'like' THEN n.video_id::text ELSE recipient.username END
  FROM activity_notification n JOIN activity_notificationactor a ON a.notification_id = n.id
  JOIN accounts_user actor ON actor.id = a.actor_id JOIN accounts_user recipient ON recipient.id = n.recipient_id
 WHERE n.kind IN ('like', 'follow')
"""


def task_effects(url: str) -> set[tuple[str, str, str]]:
    """(kind, actor, target) of every write whose task ran (its notification exists)."""
    with psycopg.connect(url, connect_timeout=5) as connection:
        return {tuple(row) for row in connection.execute(CHECK).fetchall()}


def manage_shell(env: dict[str, str], code: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def replicated() -> str | None:
    """The master's port once Sentinel names one that has an online replica (else None)."""
    master = ha("redis-master")
    info = subprocess.run(
        ["redis-cli", "-p", master, "info", "replication"], capture_output=True, text=True, timeout=10
    ).stdout
    return master if "state=online" in info else None


def topology() -> dict:
    """What Sentinel and each durable Redis say about replication (for a failure message)."""
    seen = {"sentinel_master": ha("redis-master")}
    for port in STACK_REDIS_HA_PORTS:
        info = subprocess.run(["redis-cli", "-p", port, "info", "replication"], capture_output=True, text=True)
        seen[port] = " ".join(line for line in info.stdout.split() if line.split(":")[0] in ROLE_FIELDS)
    return seen


ROLE_FIELDS = {"role", "connected_slaves", "slave0", "master_port", "master_link_status"}


def redis_cli(port: str, *args: str) -> str:
    return subprocess.run(
        ["redis-cli", "-p", port, *args], capture_output=True, text=True, timeout=10, check=True
    ).stdout


PURGE_DEFAULT_QUEUE = """
import time
from tiktok.celery import app
with app.connection_for_write() as connection:
    connection.default_channel.queue_purge("default")
print(time.time())
"""

RELAY_ONE_HEARTBEAT = """
from django.db import transaction
from tiktok import outbox
from tiktok.models import OutboxMessage
OutboxMessage.objects.all().delete()
with transaction.atomic():
    outbox.enqueue_on_commit("tiktok.tasks.worker_heartbeat")
try:
    outbox.relay_batch(limit=10)
except outbox.PublishFailed as exc:
    print("kept:", exc)
print(outbox.pending_count())
"""

HEARTBEAT = "from tiktok.tasks import last_worker_heartbeat; print(last_worker_heartbeat() or 0)"


def test_a_task_relayed_while_the_replica_lags_survives_the_masters_death(database):
    """The window made on purpose (no worker runs yet, so nothing consumes the message
    from the doomed master): the replica is frozen (SIGSTOP) and the master drops its
    link, so nothing written now reaches it; a task is relayed; the master is SIGKILLed;
    the replica resumes and Sentinel promotes it; the old master is started again and
    rejoins as its replica. The relay kept the row (no replica acknowledged it), so once
    relayed again the task runs. (With ``OUTBOX_BROKER_MIN_REPLICAS=0`` the row is
    deleted once the doomed master has the message, and the task never runs.)"""
    env = database["env"]
    ARTIFACTS.mkdir(exist_ok=True)
    for port in STACK_REDIS_HA_PORTS:
        ha("start", f"redis-{port}")
    master = wait_until(replicated, timeout=60, interval=0.5, message="a master with an online replica")
    (replica,) = set(STACK_REDIS_HA_PORTS) - {master}
    replica_pid = int(redis_cli(replica, "info", "server").split("process_id:")[1].split()[0])
    # No message left from an earlier run (on the replica too) can pass for this one.
    started = float(manage_shell(env, PURGE_DEFAULT_QUEUE))
    wait_until(lambda: redis_cli(replica, "exists", "default").strip() == "0", timeout=10, message="the purge")
    os.kill(replica_pid, signal.SIGSTOP)
    try:
        redis_cli(master, "client", "kill", "type", "replica")
        # Relayed to the master, which cannot pass it on: the claim must not commit.
        kept = manage_shell(env, RELAY_ONE_HEARTBEAT)
        ha("kill", f"redis-{master}")
    finally:
        os.kill(replica_pid, signal.SIGCONT)
    wait_until(
        lambda: redis_cli(replica, "role").startswith("master") and ha("redis-master") == replica,
        timeout=60,
        interval=0.5,
        message="Sentinel to promote the replica",
    )
    ha("start", f"redis-{master}")  # a supervisor restarts it: it rejoins as a replica
    try:
        wait_until(lambda: replicated() == replica, timeout=90, interval=0.5, message="the old master to rejoin")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {topology()}") from exc
    manage_shell(env, "from tiktok import outbox\nwhile outbox.drain(): pass\nassert outbox.pending_count() == 0")
    log = open(ARTIFACTS / "chaos-redis-window-worker.log", "ab")  # noqa: SIM115 - closed below
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tiktok", "worker", "-Q", "default", "-c", "1"]
        + ["--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"redis-window-{os.getpid()}@%h"],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_until(
            lambda: float(manage_shell(env, HEARTBEAT)) >= started,
            timeout=60,
            interval=1,
            message="the relayed task to run on the promoted master",
        )
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
        log.close()
    assert kept == "1"  # the row, not luck, carried the task across


def test_durable_redis_master_killed_under_load_tasks_flow_again_and_none_is_lost(app):
    database = app["env"]["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
    # A master killed by an earlier run rejoins as a replica once started (Sentinel turns it).
    for port in STACK_REDIS_HA_PORTS:
        ha("start", f"redis-{port}")
    old_master = wait_until(replicated, timeout=60, interval=0.5, message="a master with an online replica")
    load = Load(app["base"], app["users"], app["creators"])
    load.start()
    time.sleep(3)
    ha("kill", f"redis-{old_master}")
    killed_at = time.monotonic()
    try:
        # A supervisor starts the killed master again once Sentinel promoted its replica: it
        # rejoins as the new master's replica. Until then the outbox keeps the rows (the
        # relay publishes only what a replica acknowledges), so tasks flow again only then.
        wait_until(lambda: ha("redis-master") != old_master, timeout=30, interval=0.5, message="a promotion")
        ha("start", f"redis-{old_master}")

        # Tasks flow again: a write sent after the kill has had its task run by the worker
        # (the outbox is not drained before the end, so nothing else can have run it).
        def first_task_after_kill():
            with load.lock:
                later = {(kind, actor, target) for sent, kind, actor, target in load.acknowledged if sent > killed_at}
            return bool(later & task_effects(database)) and time.monotonic()

        back_at = wait_until(first_task_after_kill, timeout=45, interval=0.2, message="a task enqueued after the kill")
        new_master = ha("redis-master")
        time.sleep(3)  # writes, tasks and reads keep going on the new master
    finally:
        load.join()
    # Drain what the outbox kept (publishes that failed while there was no master), then
    # wait for the worker to run everything.
    kept = int(manage_shell(app["env"], "from tiktok import outbox; print(outbox.pending_count())"))
    manage_shell(app["env"], "from tiktok import outbox\nwhile outbox.drain(): pass")
    expected = {(kind, actor, target) for _, kind, actor, target in load.acknowledged}
    missing: set = set()

    def all_applied():
        nonlocal missing
        missing = expected - task_effects(database)
        return not missing

    try:
        # The backlog the outbox held while the broker had no replica takes the worker a while.
        wait_until(all_applied, timeout=90, interval=0.5, message="every acknowledged write's task")
    except AssertionError:
        pass
    figures = {
        "old_master": old_master,
        "new_master": new_master,
        "tasks_back_seconds": round(back_at - killed_at, 1),
        "acknowledged_writes": len(expected),
        "acknowledged_by_kind": {k: sum(1 for e in expected if e[0] == k) for k in ("follow", "like", "comment")},
        "kept_in_outbox_then_drained": kept,
        "tasks_lost_after_drain": len(missing),
        "failed_writes_during_failover": len(load.write_failures),
        "feed_reads": load.feed_reads,
        "failed_feed_reads": len(load.feed_failures),
        "degraded_feed_reads": load.degraded_feed_reads,
    }
    (ARTIFACTS / "chaos-redis-failover.json").write_text(json.dumps(figures, indent=2) + "\n")
    print("redis failover figures:", json.dumps(figures))
    assert new_master != old_master, figures
    assert not missing, sorted(missing)[:10]
    assert not load.feed_failures, load.feed_failures[:10]
    assert figures["tasks_back_seconds"] <= TASKS_BACK_WITHIN_SECONDS, figures
