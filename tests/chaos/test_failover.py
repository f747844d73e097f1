"""PostgreSQL failover under load (``make chaos``, the ``STACK_HA=1`` topology of bin/stack-ha).

A real gunicorn serves a database of its own on the pg_auto_failover formation (monitor,
primary, synchronous standby; durable Redis behind Sentinel). Six users each post
comments and read them back in a loop; every process of the primary node (its keeper and
all of PostgreSQL) is SIGKILLed at once. Measured: seconds until writes succeed again,
failed reads (the writers' own included), and every comment answered 201 looked up row by
row afterwards. The killed node is then started again and must rejoin as the standby by
itself. Figures go to test-artifacts/chaos-failover.json (RELIABILITY.md quotes them).
"""

from __future__ import annotations

import json
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

DATABASE = "tiktok_chaos"
USERS = 6
WRITES_BACK_WITHIN_SECONDS = 15


def primary_url(env: dict[str, str]) -> str:
    return env["DATABASE_URL"].replace("postgres://", "postgresql://", 1)


SEED = """
import json
from tests.factories import UserFactory, VideoFactory
users = [UserFactory() for _ in range({users})]
video = VideoFactory(owner=users[0])
print(json.dumps({{"users": [u.username for u in users], "video": str(video.id)}}))
"""


@pytest.fixture(scope="module")
def formation(tmp_path_factory):
    ha("up")
    env = ha_env(DATABASE)
    port = ha("primary").split()[1]
    subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-p",
            port,
            "-U",
            "postgres",
            "-c",
            f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)",
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-p",
            port,
            "-U",
            "postgres",
            "-c",
            f"CREATE DATABASE {DATABASE} OWNER tiktok ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
            " TEMPLATE template0",
        ],
        check=True,
        capture_output=True,
    )
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput"], cwd=REPO, env=env, check=True, capture_output=True, timeout=300)
    seeded = subprocess.run(
        [*manage, "shell", "-c", SEED.format(users=USERS)],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    data = json.loads(seeded.stdout.strip().splitlines()[-1])
    web_port = free_port()
    metrics_dir = tmp_path_factory.mktemp("metrics")
    log = open(REPO / "test-artifacts" / "chaos-failover-web.log", "ab")  # noqa: SIM115 - closed below
    web = subprocess.Popen(
        [
            str(REPO / ".venv" / "bin" / "gunicorn"),
            "tiktok.wsgi",
            "-c",
            "python:tiktok.gunicorn_conf",
            "-b",
            f"127.0.0.1:{web_port}",
            "-w",
            "2",
            "--threads",
            "4",
        ],
        cwd=REPO,
        env=env | {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{web_port}"
    wait_until(lambda: answers(f"{base}/healthz"), timeout=60, message="gunicorn")
    yield {"env": env, "base": base, **data}
    web.terminate()
    web.wait(timeout=30)
    log.close()


def _connect(url: str) -> psycopg.Connection | None:
    try:
        return psycopg.connect(url, connect_timeout=5)
    except psycopg.OperationalError:
        return None


class Load:
    """USERS threads, each writing a comment and reading comments and feed in a loop."""

    def __init__(self, base: str, usernames: list[str], video: str):
        self.base, self.video = base, video
        self.sessions = [login(base, name) for name in usernames]
        self.stop = threading.Event()
        self.lock = threading.Lock()
        # (when the request was sent, comment id, text): a write in flight at the kill may
        # still be answered 201 afterwards; "writes are back" counts requests sent later.
        self.acknowledged: list[tuple[float, int, str]] = []
        self.write_failures: list[tuple[float, int]] = []
        self.reads = 0
        self.read_failures: list[tuple[float, str, int | str]] = []
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True) for i in range(len(self.sessions))]

    def start(self):
        for thread in self.threads:
            thread.start()

    def join(self):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def run(self, index: int) -> None:
        session, sequence = self.sessions[index], 0
        comments = f"{self.base}/api/v1/videos/{self.video}/comments"
        while not self.stop.is_set():
            sequence += 1
            text = f"u{index}-{sequence}"
            sent = time.monotonic()
            try:
                response = session.post(comments, json={"text": text}, timeout=10)
                status = response.status_code
            except requests.RequestException:
                status = 0
            with self.lock:
                if status == 201:
                    self.acknowledged.append((sent, response.json()["id"], text))
                else:
                    self.write_failures.append((time.monotonic(), status))
            for url in (comments, f"{self.base}/api/v1/feed"):
                try:
                    read = session.get(url, timeout=10).status_code
                except requests.RequestException as exc:
                    read = type(exc).__name__
                with self.lock:
                    self.reads += 1
                    if read != 200:
                        self.read_failures.append((time.monotonic(), url, read))
            time.sleep(0.05)


def test_primary_killed_under_load_fails_over_with_no_failed_read_and_no_lost_write(formation):
    load = Load(formation["base"], formation["users"], formation["video"])
    load.start()
    time.sleep(3)
    node, _ = ha("primary").split()
    ha("kill", f"pg-node{node}")
    killed_at = time.monotonic()  # requests sent from now on cannot reach the old primary
    try:
        wait_until(
            lambda: any(at > killed_at for at, _, _ in load.acknowledged),
            timeout=60,
            interval=0.1,
            message="a write to succeed after the kill",
        )
        back = min(at for at, _, _ in load.acknowledged if at > killed_at) - killed_at
        time.sleep(3)  # writes and reads keep going on the new primary
    finally:
        load.join()
    with wait_until(lambda: _connect(primary_url(formation["env"])), timeout=30, message="the primary") as connection:
        ids = [cid for _, cid, _ in load.acknowledged]
        rows = connection.execute("SELECT id, text FROM activity_comment WHERE id = ANY(%s)", ([int(i) for i in ids],))
        stored = {str(cid): text for cid, text in rows.fetchall()}
    lost = [(cid, text) for _, cid, text in load.acknowledged if stored.get(str(cid)) != text]
    rejoin_started = time.monotonic()
    ha("start", f"pg-node{node}")
    wait_until(
        lambda: ha("standby").split()[:1] == [node], timeout=120, interval=0.5, message="the old primary to rejoin"
    )
    figures = {
        "writes_back_seconds": round(back, 1),
        "acknowledged_writes": len(load.acknowledged),
        "lost_acknowledged_writes": len(lost),
        "failed_writes_during_failover": len(load.write_failures),
        "reads": load.reads,
        "failed_reads": len(load.read_failures),
        "old_primary_rejoined_as_standby_seconds": round(time.monotonic() - rejoin_started, 1),
    }
    (REPO / "test-artifacts").mkdir(exist_ok=True)
    (REPO / "test-artifacts" / "chaos-failover.json").write_text(json.dumps(figures, indent=2) + "\n")
    print("failover figures:", json.dumps(figures))
    assert not lost, lost[:10]
    assert not load.read_failures, load.read_failures[:10]
    assert back <= WRITES_BACK_WITHIN_SECONDS, figures


def test_standby_killed_and_started_again_rejoins_by_itself_while_writes_continue(formation):
    session = login(formation["base"], formation["users"][1])
    comments = f"{formation['base']}/api/v1/videos/{formation['video']}/comments"
    node, _ = ha("standby").split()
    ha("kill", f"pg-node{node}")

    # Alone, the primary stops waiting for its standby (wait_primary) and writes go on.
    # Until the monitor moves it there, a commit waits for the dead standby: a write that
    # outlasts the client's timeout is a "not yet" (seen once in CI, the standby killed 2 s
    # after the failover before it: the monitor took 20 s to move the primary).
    def written() -> bool:
        try:
            return session.post(comments, json={"text": "standby away"}, timeout=10).status_code == 201
        except requests.Timeout:
            return False

    wait_until(written, timeout=30, interval=0.5, message="writes without the standby")
    ha("start", f"pg-node{node}")
    wait_until(lambda: ha("standby").split()[:1] == [node], timeout=120, interval=0.5, message="the standby to rejoin")
    assert session.get(comments, timeout=10).status_code == 200
