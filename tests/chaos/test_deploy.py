"""A rolling deploy under load loses no request and no task (``make chaos``).

gunicorn (as ``bin/run`` runs it) and a Celery worker serve users who comment on videos
(each comment's notification is a task) and read their feed. The deploy, while they do:

1. ``manage.py migrate`` of the next release's migration (a column and a concurrent index
   on the comments table the load inserts into);
2. gunicorn reloads gracefully (``HUP``) onto the next release (``APP_RELEASE=next`` in
   its configuration): new workers start, old ones finish their requests and exit;
3. a worker of the next release starts, then the old one gets ``TERM`` (warm shutdown:
   it finishes what it runs; with ``acks_late`` what it had not acknowledged goes back
   to the queue).

Counted: failed requests (goal 0), tasks lost (acknowledged comments without their
notification after the outbox drains; goal 0), and the longest request, printed and kept
in test-artifacts/chaos-deploy.json.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
import requests

from tests.helpers.ha import answers, free_port, login
from tests.helpers.stack import REPO, wait_until

pytestmark = [pytest.mark.chaos, pytest.mark.slow]

DATABASE = "tiktok_chaos_deploy"
USERS = 4
ARTIFACTS = REPO / "test-artifacts"

SEED = """
import json
from tests.factories import UserFactory, VideoFactory
users = [UserFactory() for _ in range({users})]
videos = [VideoFactory() for _ in range(8)]
print(json.dumps({{"users": [u.username for u in users], "videos": [str(v.id) for v in videos]}}))
"""

COMMENTS_WITH_THEIR_TASK = """
SELECT n.comment_id FROM activity_notification n WHERE n.kind = 'comment' AND n.comment_id IS NOT NULL
"""


def app_env() -> dict[str, str]:
    exports = subprocess.run(["bin/stack", "env"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "DJANGO_SETTINGS", "STACK_HA"))}
    for line in exports.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        env[name] = shlex.split(value)[0] if value else ""
    for name in ("DATABASE_URL", "DATABASE_REPLICA_URLS"):
        head, _, _ = env[name].rpartition("/")
        env[name] = f"{head}/{DATABASE}"
    for name, index in (("CELERY_BROKER_URL", 7), ("REDIS_DURABLE_URL", 8), ("REDIS_URL", 9)):
        head, _, _ = env[name].rpartition("/")
        env[name] = f"{head}/{index}"  # a broker and caches of the test's own
    return env | {
        "DJANGO_SETTINGS_MODULE": "tiktok.settings",
        "THROTTLE_WRITES": "100000/min",
        "THROTTLE_AUTH": "100000/min",
        "NOTIFICATION_MAX_PER_RECIPIENT": "100000",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "PYTHONUNBUFFERED": "1",
    }


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout.strip()


def start_worker(env: dict[str, str], name: str, log: Path) -> subprocess.Popen:
    mark = log.stat().st_size if log.exists() else 0
    with open(log, "ab") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tiktok", "worker", "-Q", "default,media,fanout", "-c", "2"]
            + ["--without-gossip", "--without-mingle", "-l", "INFO", "-n", f"{name}-{os.getpid()}@%h"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    wait_until(lambda: b" ready." in log.read_bytes()[mark:], timeout=90, message=f"worker {name}")
    return worker


def web_workers(master: int) -> set[int]:
    found = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True).stdout
    return {int(pid) for pid in found.split()}


def release_config(release: str, releases: Path) -> str:
    """A gunicorn configuration: the project's, the release in the workers' environment, and
    each worker writing the release it booted with to ``releases/<pid>``."""
    return (
        "import os, pathlib\n"
        "from tiktok.gunicorn_conf import *  # noqa: F403\n"
        f"raw_env = ['APP_RELEASE={release}']\n"
        "def post_fork(server, worker):\n"
        f"    folder = pathlib.Path({str(releases)!r})\n"
        "    folder.mkdir(exist_ok=True)\n"
        "    (folder / str(os.getpid())).write_text(os.environ.get('APP_RELEASE', ''))\n"
    )


def release_of(pid: int, releases: Path) -> str | None:
    try:
        return (releases / str(pid)).read_text()
    except OSError:
        return None


class Load:
    """Each user comments on a video and reads their feed, in a loop; every request timed."""

    def __init__(self, base: str, usernames: list[str], videos: list[str]):
        self.api = f"{base}/api/v1"
        self.sessions = [login(base, name) for name in usernames]
        self.videos = videos
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.timed: list[tuple[float, float]] = []  # (sent, seconds)
        self.failures: list[tuple[str, int | str]] = []
        self.comments: list[str] = []
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True) for i in range(len(self.sessions))]

    def request(self, session, method: str, url: str, body: dict | None = None):
        started = time.monotonic()
        try:
            response = session.request(method, url, json=body, timeout=30)
            status: int | str = response.status_code
        except requests.RequestException as exc:
            response, status = None, type(exc).__name__
        with self.lock:
            self.latencies.append(time.monotonic() - started)
            self.timed.append((started, self.latencies[-1]))
            if status not in (200, 201):
                self.failures.append((f"{method} {url}", status))
        return response if status in (200, 201) else None

    def run(self, index: int) -> None:
        session, step = self.sessions[index], 0
        while not self.stop.is_set():
            video = self.videos[(index + step) % len(self.videos)]
            created = self.request(session, "POST", f"{self.api}/videos/{video}/comments", {"text": f"deploy {step}"})
            if created is not None:
                with self.lock:
                    self.comments.append(str(created.json()["id"]))
            self.request(session, "GET", f"{self.api}/feed")
            step += 1

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def wait_for_more(self, more: int) -> None:
        target = len(self.latencies) + more
        wait_until(lambda: len(self.latencies) >= target, timeout=60, message=f"{more} more requests")


@pytest.fixture
def deployed_app(tmp_path):
    env = app_env()
    primary = env["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
    admin = primary.rpartition("/")[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        db.execute(f"CREATE DATABASE {DATABASE}")
    manage(env, "migrate", "--noinput")
    data = json.loads(manage(env, "shell", "-c", SEED.format(users=USERS)).splitlines()[-1])
    ARTIFACTS.mkdir(exist_ok=True)
    config = tmp_path / "gunicorn_release.py"
    config.write_text(release_config("current", tmp_path / "releases"))
    (tmp_path / "metrics").mkdir()
    port = free_port()
    web_log = open(ARTIFACTS / "chaos-deploy-web.log", "ab")  # noqa: SIM115 - closed below
    web = subprocess.Popen(
        [str(REPO / ".venv" / "bin" / "gunicorn"), "tiktok.wsgi", "-c", str(config), "-b", f"127.0.0.1:{port}"]
        + ["--pid", str(tmp_path / "gunicorn.pid")]
        + ["-k", "gthread", "-w", "2", "--threads", "4", "--graceful-timeout", "10"],
        cwd=REPO,
        env=env | {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")},
        stdout=web_log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    wait_until(lambda: answers(f"{base}/healthz"), timeout=60, message="gunicorn")
    workers: list[subprocess.Popen] = []
    try:
        workers.append(start_worker(env, "deploy-current", ARTIFACTS / "chaos-deploy-worker.log"))
        yield {
            "env": env,
            "base": base,
            "web": web,
            "pidfile": tmp_path / "gunicorn.pid",
            "config": config,
            "releases": tmp_path / "releases",
            "workers": workers,
            "primary": primary,
            **data,
        }
    finally:
        web.terminate()
        try:  # the master of the next release, started by the old one on USR2
            os.kill(int((tmp_path / "gunicorn.pid").read_text()), signal.SIGTERM)
        except (OSError, ValueError):
            pass
        for worker in workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
        for process in (web, *workers):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        web_log.close()
        with psycopg.connect(admin, autocommit=True) as db:
            db.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


def longest_by_step(timed: list[tuple[float, float]], phases: dict[str, float]) -> dict[str, float]:
    """The longest request sent during each step of the deploy."""
    marks = sorted(phases.items(), key=lambda item: item[1])
    steps = {}
    for (_, begin), (name, end) in zip(marks, marks[1:], strict=False):
        inside = [seconds for sent, seconds in timed if begin <= sent < end]
        steps[name] = round(max(inside, default=0.0), 3)
    return steps


def test_a_rolling_deploy_under_load_fails_no_request_and_loses_no_task(deployed_app):
    app = deployed_app
    env, web = app["env"], app["web"]
    phases = {}
    with Load(app["base"], app["users"], app["videos"]) as load:
        load.wait_for_more(100)
        phases["start"] = time.monotonic()
        # 1. The next release's migration, while the current release serves.
        manage(env | {"DJANGO_SETTINGS_MODULE": "tests.chaos.deploy_app.settings"}, "migrate", "deploy_app")
        load.wait_for_more(50)
        # 2. gunicorn onto the next release: USR2 starts a new master (re-reading the
        # configuration) whose workers accept on the same socket; once they all run the
        # next release, TERM lets the old master's workers finish their requests and exit.
        app["config"].write_text(release_config("next", app["releases"]))
        phases["migrated"] = time.monotonic()
        web.send_signal(signal.SIGUSR2)

        def next_master() -> int | None:
            try:
                # The new master writes "<pidfile>.2" until the old one has exited.
                pid = int(app["pidfile"].with_name(app["pidfile"].name + ".2").read_text())
            except (OSError, ValueError):
                return None
            current = web_workers(pid) if pid != web.pid else set()
            ready = len(current) == 2 and all(release_of(w, app["releases"]) == "next" for w in current)
            return pid if ready and all(answers(f"{app['base']}/healthz") for _ in range(4)) else None

        wait_until(next_master, timeout=90, message="the next release's master and workers")
        web.send_signal(signal.SIGTERM)
        web.wait(timeout=60)
        phases["web_deployed"] = time.monotonic()
        load.wait_for_more(50)
        # 3. A worker of the next release, then a warm shutdown of the current one.
        old_worker = app["workers"][0]
        app["workers"].append(
            start_worker(env | {"APP_RELEASE": "next"}, "deploy-next", ARTIFACTS / "chaos-deploy-worker-next.log")
        )
        os.killpg(old_worker.pid, signal.SIGTERM)
        old_worker.wait(timeout=60)
        phases["worker_deployed"] = time.monotonic()
        load.wait_for_more(100)
    # Whatever the outbox still holds is published, then every comment's task must run.
    manage(env, "shell", "-c", "from tiktok import outbox\nwhile outbox.drain(): pass")
    acknowledged = set(load.comments)
    missing: set[str] = set()

    def all_ran() -> bool:
        nonlocal missing
        with psycopg.connect(app["primary"]) as db:
            done = {str(row[0]) for row in db.execute(COMMENTS_WITH_THEIR_TASK).fetchall()}
        missing = acknowledged - done
        return not missing

    try:
        wait_until(all_ran, timeout=60, interval=0.5, message="every acknowledged comment's task")
    except AssertionError:
        pass
    figures = {
        "requests": len(load.latencies),
        "failed_requests": len(load.failures),
        "longest_request_seconds": round(max(load.latencies), 3),
        "longest_request_seconds_by_step": longest_by_step(load.timed, phases),
        "comments_acknowledged": len(acknowledged),
        "tasks_lost": len(missing),
        "old_worker_exit_code": app["workers"][0].returncode,
    }
    (ARTIFACTS / "chaos-deploy.json").write_text(json.dumps(figures, indent=2) + "\n")
    print("deploy figures:", json.dumps(figures))
    assert load.failures == [], figures
    assert missing == set(), figures
    assert app["workers"][0].returncode == 0, figures  # a warm shutdown, not a crash
