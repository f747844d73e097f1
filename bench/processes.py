"""Processes the bench starts (gunicorn or granian, wrk, Celery workers) and how it drives wrk."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _server(url: str) -> str:
    """``postgres://user:password@host:port`` of a database URL (its database name dropped)."""
    return url.rsplit("/", 1)[0] if url.count("/") > 2 else url


# The stack's servers (`bin/stack env`; its default ports otherwise): the bench makes its
# own databases on them.
PRIMARY = _server(os.environ.get("DATABASE_URL", "postgres://tiktok:tiktok@127.0.0.1:55432/tiktok"))
REPLICA = _server(
    os.environ.get("DATABASE_REPLICA_URLS", "postgres://tiktok:tiktok@127.0.0.1:55433/tiktok").split(",")[0]
)


def say(message: str) -> None:
    print(f"[bench {datetime.now(tz=UTC):%H:%M:%S}] {message}", flush=True)


# --- database ---------------------------------------------------------------------------


def pg(url: str, **kwargs):
    import psycopg

    return psycopg.connect(url, autocommit=True, **kwargs)


def wait_for_replica(database: str, timeout: float) -> float:
    """Block until the replica has replayed everything committed on the primary (its WAL
    flush position: the insert position can point past WAL nothing flushes on a quiet primary)."""
    started = reported = time.monotonic()
    with pg(f"{PRIMARY}/{database}") as primary:
        target = primary.execute("SELECT pg_current_wal_flush_lsn() - '0/0'::pg_lsn").fetchone()[0]
    while True:
        try:
            with pg(f"{REPLICA}/{database}", connect_timeout=2) as replica:
                replayed = replica.execute("SELECT pg_last_wal_replay_lsn() - '0/0'::pg_lsn").fetchone()[0]
            if replayed is not None and replayed >= target:
                return time.monotonic() - started
        except Exception as exc:  # noqa: BLE001 - replica restarting (other test runs inject faults)
            if time.monotonic() - reported > 5:
                reported = time.monotonic()
                say(f"replica not reachable yet: {str(exc).splitlines()[0]}")
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"replica did not replay {database} within {timeout:.0f} s")
        time.sleep(0.2)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Processes:
    """Child processes started by the bench; stopped by their pids on exit."""

    def __init__(self):
        self.children: list[subprocess.Popen] = []

    def start(self, command: list[str], *, env: dict[str, str], log: Path) -> subprocess.Popen:
        handle = open(log, "ab")  # noqa: SIM115 - closed when the process ends
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=handle, stderr=subprocess.STDOUT)
        self.children.append(process)
        return process

    def stop(self, process: subprocess.Popen, timeout: float = 15.0) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        if process in self.children:
            self.children.remove(process)

    def stop_all(self) -> None:
        for process in list(self.children):
            self.stop(process)


SERVER_KINDS = ("sync", "gthread", "granian")


def server_command(server: str, app: str, port: int) -> list[str]:
    """The command line of one server configuration serving the WSGI ``app`` (a module whose
    ``application`` is the WSGI callable) on ``127.0.0.1:port``, access log off:

    * ``sync:N``: gunicorn, N sync workers (one request at a time each);
    * ``gthread:NxT``: gunicorn, N workers of T threads (T defaults to 4);
    * ``granian:N`` or ``granian:NxT``: granian's WSGI interface, N worker processes, each
      with one Rust runtime thread and T blocking threads running Python (T defaults to 1).
    """
    kind, _, shape = server.partition(":")
    workers, _, threads = shape.partition("x")
    if kind not in SERVER_KINDS or not workers.isdigit() or not (threads.isdigit() or threads == ""):
        raise SystemExit(f"unknown server configuration {server!r}: sync:N, gthread:NxT, granian:N or granian:NxT")
    if kind == "granian":
        return [
            str(BIN / "granian"), f"{app}:application", "--interface", "wsgi", "--host", "127.0.0.1",
            "--port", str(port), "--workers", workers, "--blocking-threads", threads or "1",
            "--runtime-threads", "1", "--no-ws", "--log-level", "warning", "--no-access-log",
        ]  # fmt: skip
    command = [str(BIN / "gunicorn"), app, "-b", f"127.0.0.1:{port}", "--log-level", "warning", "-w", workers]
    if kind == "gthread":
        return [*command, "-k", "gthread", "--threads", threads or "4"]
    return [*command, "-k", "sync"]


def start_server(processes: Processes, server: str, env: dict[str, str], workdir: Path, app: str = "tiktok.wsgi"):
    """``app`` under one server configuration (``server_command``), once it answers /healthz;
    ``bench.bare.wsgi`` is the bare Django project. Returns the process and its port."""
    port = free_port()
    command = server_command(server, app, port)
    log = workdir / f"{server.partition(':')[0]}.log"
    process = processes.start(command, env=env, log=log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                if response.status == 200:
                    return process, port
        except OSError:
            time.sleep(0.2)
        if process.poll() is not None:
            break
    raise RuntimeError(f"{server} did not start: {log.read_text()[-3000:]}")


start_gunicorn = start_server  # the name other bench scripts import


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    say("wrk is missing: installing the Debian package")
    subprocess.run(
        ["apt-get", "install", "-y", "-q", "wrk"], check=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    )
    return shutil.which("wrk") or "wrk"


def run_wrk(wrk: str, port: int, scenario: str, connections: int, duration: float, files: dict) -> dict:
    tokens = files["writers"] if scenario == "writes" else files.get(scenario, files["cohort"])
    extra = [str(files["targets"])] if scenario == "writes" else []
    command = [
        wrk, f"-t{min(2, connections)}", f"-c{connections}", f"-d{max(duration, 1):.0f}s", "--latency",
        "--timeout", "10s", "-s", str(REPO / "bench" / "wrk.lua"), f"http://127.0.0.1:{port}",
        "--", scenario, str(tokens), *extra,
    ]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
    lines = [line for line in completed.stdout.splitlines() if line.startswith("BENCH_JSON ")]
    if completed.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed: {completed.stdout[-2000:]} {completed.stderr[-2000:]}")
    raw = json.loads(lines[-1].removeprefix("BENCH_JSON "))
    seconds = raw["duration_us"] / 1e6
    latency = raw["latency_us"]
    statuses = {int(code): count for code, count in raw["statuses"].items()}
    errors = raw["errors"]
    return {
        "rps": round(raw["requests"] / seconds, 1),
        "requests": raw["requests"],
        "p50_ms": round(latency["p50"] / 1000, 2),
        "p95_ms": round(latency["p95"] / 1000, 2),
        "p99_ms": round(latency["p99"] / 1000, 2),
        "max_ms": round(latency["max"] / 1000, 2),
        "statuses": statuses,
        "non_2xx": sum(count for code, count in statuses.items() if not 200 <= code < 300),
        "socket_errors": errors["connect"] + errors["read"] + errors["write"] + errors["timeout"],
    }
