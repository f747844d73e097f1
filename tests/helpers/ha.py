"""What the failover chaos tests share: driving bin/stack-ha, the app's environment on the
``STACK_HA=1`` topology (a database of the test's own), and a logged-in API client."""

from __future__ import annotations

import os
import shlex
import socket
import subprocess

import requests

from tests.helpers.stack import REPO

STACK_HA = REPO / "bin" / "stack-ha"


def ha(*args: str) -> str:
    result = subprocess.run(
        [str(STACK_HA), *args],
        cwd=REPO,
        env=os.environ | {"STACK_HA": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip()


def ha_env(database: str, **extra: str) -> dict[str, str]:
    """The app's environment on the HA topology (bin/stack env with STACK_HA=1) on ``database``."""
    exports = subprocess.run(
        ["bin/stack", "env"], cwd=REPO, env=os.environ | {"STACK_HA": "1"}, capture_output=True, text=True, check=True
    ).stdout
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "DJANGO_SETTINGS"))}
    for line in exports.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        env[name] = shlex.split(value)[0] if value else ""
    for name in ("DATABASE_URL", "DATABASE_REPLICA_URLS"):
        env[name] = env[name].replace("/tiktok?", f"/{database}?")
    return env | {
        "DJANGO_SETTINGS_MODULE": "tiktok.settings",
        "THROTTLE_WRITES": "100000/min",
        "THROTTLE_AUTH": "100000/min",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def login(base: str, username: str) -> requests.Session:
    session = requests.Session()
    response = session.post(
        f"{base}/api/v1/auth/login", json={"username": username, "password": "correct-horse-battery"}, timeout=10
    )
    assert response.status_code == 200, response.text
    session.headers["Authorization"] = f"Bearer {response.json()['token']}"
    return session
