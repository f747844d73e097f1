"""Load and fan-out benchmark: ``python bench/run.py --size large`` (``make bench``).

1. Makes sure the bench database ``tiktok_bench_<size>`` exists, is migrated and seeded
   (``manage.py seed_bench``), and that the replica has replayed it.
2. Rebuilds the feeds of a sample of the cohort (users following 500+ creators).
3. For each gunicorn configuration (``bench.settings``: production settings plus the bench
   app and its baseline endpoints) and each concurrency level, drives ``wrk`` (a separate
   process, ``bench/wrk.lua``) at: ``feed`` (``GET /api/v1/feed``, precomputed in Redis),
   ``sql`` (the same page computed in SQL on the replica), ``floor`` (minimal authenticated
   view) and ``writes`` (PUT like / PUT follow mix), each for ``--duration`` seconds, side
   by side.
4. Fan-out: two Celery workers (``-c 1`` each) deliver one new video to 10^4 and 10^5
   followers whose feeds exist; timed from enqueue until the queues are drained and every
   follower's feed holds the video.
5. Redis bytes per feed entry; writes ``bench/results/latest.json`` (or ``--output``).

The bench uses its own database and Redis database (``--redis-url``, cache, durable and
broker share it: their keys do not overlap) so it does not disturb other runs.
See BENCHMARKS.md for the method and the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
BIN = Path(sys.executable).parent
PRIMARY = "postgres://tiktok:tiktok@127.0.0.1:55432"
REPLICA = "postgres://tiktok:tiktok@127.0.0.1:55433"
# Redis DB 1 of the cache instance is used by nothing else (make run: 0; test slots: 2-8;
# the CI smoke: 9-15 by slot); see BENCHMARKS.md.
DEFAULT_REDIS = "redis://127.0.0.1:56380/1"
SCENARIOS = ("feed", "sql", "floor", "writes")
READ_SCENARIOS = ("feed", "sql", "floor")
DEFAULTS = {
    "small": {"duration": 3.0, "concurrency": "8,16,32", "fanout": "1000", "cohort_sample": 200},
    "large": {"duration": 12.0, "concurrency": "8,16,32", "fanout": "10000,100000", "cohort_sample": 1000},
}
FANOUT_FEED_ENTRIES = 5  # entries in each follower feed built before a fan-out


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(DEFAULTS), default="large")
    parser.add_argument("--database", help="database name (default tiktok_bench_<size>)")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS, help="Redis DB for cache, durable and broker")
    parser.add_argument("--duration", type=float, help="seconds per scenario and level")
    parser.add_argument("--concurrency", help="comma-separated connection counts, e.g. 8,16,32")
    parser.add_argument(
        "--servers", default="gthread:2x4,sync:3", help="gunicorn configurations: gthread:WORKERSxTHREADS or sync:N"
    )
    parser.add_argument("--fanout", help="comma-separated audiences to fan out to ('' to skip)")
    parser.add_argument("--cohort-sample", type=int, help="cohort users whose feeds are read")
    parser.add_argument("--seed", choices=["auto", "always", "never"], default="auto")
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    args = parser.parse_args(argv)
    for name, value in DEFAULTS[args.size].items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.database = args.database or f"tiktok_bench_{args.size}"
    args.levels = [int(value) for value in args.concurrency.split(",") if value]
    args.fanout_sizes = [int(value) for value in args.fanout.split(",") if value]
    return args


def bench_env(args) -> dict[str, str]:
    """Bench settings (production mode plus the ``bench`` app) on the bench database and Redis DB."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DJANGO_ENV="production",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_SECURE_HSTS_SECONDS="0",
        DATABASE_URL=f"{PRIMARY}/{args.database}",
        DATABASE_REPLICA_URLS=f"{REPLICA}/{args.database}",
        REDIS_URL=args.redis_url,
        REDIS_DURABLE_URL=args.redis_url,
        CELERY_BROKER_URL=args.redis_url,
        CELERY_TASK_ALWAYS_EAGER="0",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        # Production serves media through a CDN: plain URLs, no per-card S3 signing.
        CDN_BASE_URL="https://cdn.bench.invalid",
        THROTTLE_WRITES="100000000/min",
        THROTTLE_AUTH="100000000/min",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


def say(message: str) -> None:
    print(f"[bench {datetime.now(tz=UTC):%H:%M:%S}] {message}", flush=True)


# --- database ---------------------------------------------------------------------------


def pg(url: str, **kwargs):
    import psycopg

    return psycopg.connect(url, autocommit=True, **kwargs)


def ensure_database(args, env: dict[str, str]) -> dict:
    """Create, migrate and seed the bench database as needed; returns seeding facts."""
    from bench.management.commands.seed_bench import SIZES

    with pg(f"{PRIMARY}/postgres") as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.database]).fetchone()
        if not exists:
            say(f"creating database {args.database}")
            connection.execute(f'CREATE DATABASE "{args.database}"')
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=REPO, env=env, check=True)
    users = 0
    with pg(f"{PRIMARY}/{args.database}") as connection:
        users = connection.execute("SELECT count(*) FROM accounts_user WHERE username LIKE 'bench\\_%%'").fetchone()[0]
    seeded = {"seeded_now": False}
    if args.seed == "always" or (args.seed == "auto" and users < SIZES[args.size]["users"]):
        say(f"seeding {args.database} ({args.size}); this takes a while for large")
        started = time.monotonic()
        subprocess.run([*manage, "seed_bench", "--size", args.size], cwd=REPO, env=env, check=True)
        seeded = {"seeded_now": True, "seed_seconds": round(time.monotonic() - started, 1)}
    elif users == 0:
        raise SystemExit(f"{args.database} is not seeded and --seed never was given")
    return seeded


def dataset_facts(args) -> dict:
    with pg(f"{PRIMARY}/{args.database}") as connection:
        row = connection.execute(
            """
            SELECT (SELECT count(*) FROM accounts_user), (SELECT count(*) FROM activity_follow),
                   (SELECT count(*) FROM videos_video), (SELECT count(*) FROM activity_like),
                   (SELECT count(*) FROM activity_comment),
                   (SELECT count(*) FROM accounts_user WHERE following_count >= 500),
                   (SELECT max(followers_count) FROM accounts_user),
                   (SELECT count(*) FROM accounts_user WHERE followers_count >= 10000)
            """
        ).fetchone()
    keys = ("users", "follows", "videos", "likes", "comments", "cohort_500plus", "max_followers", "creators_10k_plus")
    return {"name": args.size, "database": args.database, **dict(zip(keys, row, strict=True))}


def wait_for_replica(database: str, timeout: float) -> float:
    """Block until the replica has replayed the primary's current WAL position."""
    started = reported = time.monotonic()
    with pg(f"{PRIMARY}/{database}") as primary:
        target = primary.execute("SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn").fetchone()[0]
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


def sample_inputs(args, workdir: Path) -> dict:
    """Token and target files for wrk, and the cohort user ids."""
    with pg(f"{PRIMARY}/{args.database}") as connection:
        cohort = connection.execute(
            """
            SELECT u.id, t.key FROM accounts_user u JOIN authtoken_token t ON t.user_id = u.id
            WHERE u.following_count >= 500 ORDER BY random() LIMIT %s
            """,
            [args.cohort_sample],
        ).fetchall()
        writers = [row[0] for row in connection.execute("SELECT key FROM authtoken_token ORDER BY random() LIMIT 5000")]
        videos = [
            str(row[0])
            for row in connection.execute(
                "SELECT id FROM videos_video WHERE status = 'ready' ORDER BY random() LIMIT 5000"
            )
        ]
        usernames = [
            row[0]
            for row in connection.execute(
                "SELECT username FROM accounts_user WHERE username LIKE 'bench\\_%%' ORDER BY random() LIMIT 5000"
            )
        ]
    if not cohort:
        raise SystemExit("no user follows 500+ creators: reseed (--seed always)")
    files = {
        "cohort": workdir / f"tokens-{args.size}.txt",
        "writers": workdir / f"tokens-{args.size}-writers.txt",
        "targets": workdir / f"targets-{args.size}.txt",
    }
    files["cohort"].write_text("".join(f"{key}\n" for _, key in cohort))
    files["writers"].write_text("".join(f"{key}\n" for key in writers))
    files["targets"].write_text("".join(f"v {v}\n" for v in videos) + "".join(f"u {u}\n" for u in usernames))
    return {"cohort_ids": [user_id for user_id, _ in cohort], "files": files}


# --- processes --------------------------------------------------------------------------


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


def start_gunicorn(processes: Processes, server: str, env: dict[str, str], workdir: Path):
    kind, _, shape = server.partition(":")
    port = free_port()
    command = [str(BIN / "gunicorn"), "tiktok.wsgi", "-b", f"127.0.0.1:{port}", "--log-level", "warning"]
    if kind == "gthread":
        workers, _, threads = shape.partition("x")
        command += ["-k", "gthread", "-w", workers, "--threads", threads or "4"]
    elif kind == "sync":
        command += ["-k", "sync", "-w", shape]
    else:
        raise SystemExit(f"unknown server configuration {server!r}")
    process = processes.start(command, env=env, log=workdir / "gunicorn.log")
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
    raise RuntimeError(f"gunicorn did not start: {(workdir / 'gunicorn.log').read_text()[-3000:]}")


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
    tokens = files["writers"] if scenario == "writes" else files["cohort"]
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


# --- phases -----------------------------------------------------------------------------


def warm_feeds(user_ids: list[int]) -> dict:
    from django.db import OperationalError, connections

    from feed import services

    timings = []
    for user_id in user_ids:
        for attempt in range(60):
            started = time.perf_counter()
            try:
                services.feed_rebuild(user_id=user_id)
                break
            except (*services.REDIS_ERRORS, OperationalError) as exc:
                # Other test runs stop and start the shared Redis and replica (fault injection).
                say(f"warming: {type(exc).__name__} (attempt {attempt + 1}); retrying")
                connections.close_all()
                time.sleep(1)
        timings.append(time.perf_counter() - started)
    return {
        "feeds": len(user_ids),
        "seconds": round(sum(timings), 2),
        "rebuild_ms_p50": round(statistics.median(timings) * 1000, 1),
        "rebuild_ms_max": round(max(timings) * 1000, 1),
    }


def rewarm(user_ids: list[int]) -> int:
    """Rebuild cohort feeds that vanished (other runs restart the shared Redis); returns how many."""
    from feed import store

    missing = [user_id for user_id in user_ids if not store.feed_exists(user_id=user_id)]
    if missing:
        say(f"{len(missing)} cohort feeds vanished (Redis restarted?): rebuilding them")
        warm_feeds(missing)
    return len(missing)


def http_phase(args, env, processes: Processes, files: dict, cohort_ids: list[int], workdir: Path) -> dict:
    wrk = ensure_wrk()
    servers: dict[str, dict] = {}
    for server in [value for value in args.servers.split(",") if value]:
        process, port = start_gunicorn(processes, server, env, workdir)
        say(f"{server}: gunicorn on :{port}; warm-up")
        for scenario in READ_SCENARIOS:
            run_wrk(wrk, port, scenario, args.levels[0], min(args.duration, 3.0), files)
        levels = {}
        for connections in args.levels:
            row = {}
            for scenario in SCENARIOS:
                if scenario == "feed":
                    row["feeds_rebuilt_before"] = rewarm(cohort_ids)
                row[scenario] = run_wrk(wrk, port, scenario, connections, args.duration, files)
            levels[str(connections)] = row
            say(
                f"{server} c={connections}: "
                + "  ".join(f"{name} {row[name]['rps']:.0f} rps p99 {row[name]['p99_ms']:.1f} ms" for name in SCENARIOS)
            )
        processes.stop(process)
        servers[server] = levels
    return servers


def store_contains(user_ids: list[int], video_id: str) -> int:
    """How many of the users' feeds hold ``video_id``."""
    from feed import store

    return store.feeds_containing(user_ids=user_ids, video_id=video_id)


def queues_drained(broker) -> bool:
    pipe = broker.pipeline(transaction=False)
    pipe.llen("fanout")
    pipe.llen("default")
    pipe.hlen("unacked")
    return not any(pipe.execute())


def fanout_phase(args, env, processes: Processes, workdir: Path) -> dict:
    import redis
    from django.utils import timezone

    from feed import selectors, store, tasks
    from feed.store import Entry
    from videos.models import Moderation, Video, VideoStatus

    broker = redis.Redis.from_url(args.redis_url)
    broker.flushdb()
    # BIG_CREATOR_FOLLOWERS: measure a real push to every follower; INFO logs say "ready.".
    worker_env = {**env, "BIG_CREATOR_FOLLOWERS": str(10**9), "LOG_LEVEL": "INFO"}
    workers = [
        processes.start(
            [
                str(BIN / "celery"), "-A", "tiktok", "worker", "-Q", "fanout,default", "-c", "1",
                "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO",
                "-n", f"bench-{os.getpid()}-{index}@%h",
            ],
            env=worker_env, log=workdir / f"worker-{index}.log",
        )
        for index in range(2)
    ]  # fmt: skip
    try:
        wait_for_workers(broker, workdir, count=2)
        sample = selectors.entries_for(selectors.public_videos(), limit=FANOUT_FEED_ENTRIES)
        results = {}
        for size in args.fanout_sizes:
            with pg(f"{PRIMARY}/{args.database}") as connection:
                creator_id, followers = connection.execute(
                    "SELECT id, followers_count FROM accounts_user ORDER BY abs(followers_count - %s), id LIMIT 1",
                    [size],
                ).fetchone()
                follower_ids = [
                    row[0]
                    for row in connection.execute(
                        "SELECT follower_id FROM activity_follow WHERE followee_id = %s ORDER BY follower_id",
                        [creator_id],
                    )
                ]
            started = time.monotonic()
            for user_id in follower_ids:
                store.write_feed(user_id=user_id, entries=sample, big_creator_ids=[])
            build_seconds = time.monotonic() - started
            now = timezone.now()
            video = Video.objects.create(
                owner_id=creator_id,
                caption="bench fan-out",
                status=VideoStatus.READY,
                moderation=Moderation.VISIBLE,
                content_type="video/mp4",
                size_bytes=1,
                upload_expires_at=now,
                original_key=f"originals/{creator_id}/bench",
                published_at=now,
            )
            wait_for_replica(args.database, timeout=60)
            started = time.monotonic()
            tasks.fanout_video.delay(str(video.id))
            done_at, delivered = None, 0
            deadline = started + 300
            while time.monotonic() < deadline:
                time.sleep(0.01)
                if not queues_drained(broker):
                    continue
                done_at = time.monotonic()
                delivered = store_contains(follower_ids, str(video.id))
                if delivered == len(follower_ids):
                    break
                done_at = None
            seconds = round(done_at - started, 3) if done_at else None
            results[str(size)] = {
                "creator_id": creator_id,
                "followers": followers,
                "feeds_built": len(follower_ids),
                "feed_build_seconds": round(build_seconds, 2),
                "seconds": seconds,
                "delivered": delivered,
                "entry": Entry(score=selectors.score_of(now), video_id=str(video.id)).video_id,
            }
            say(f"fan-out to {len(follower_ids):,} followers: {seconds} s (feeds built in {build_seconds:.1f} s)")
            video.delete()
        results["redis_used_memory_mb"] = round(broker.info("memory")["used_memory"] / 2**20, 1)
        return results
    finally:
        for worker in workers:
            processes.stop(worker)


def wait_for_workers(broker, workdir: Path, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready = sum(b" ready." in path.read_bytes() for path in workdir.glob("worker-*.log"))
        if ready >= count:
            return
        time.sleep(0.2)
    logs = "".join(path.read_text()[-1500:] for path in workdir.glob("worker-*.log"))
    raise RuntimeError(f"workers not ready: {logs}")


def redis_bytes_per_entry() -> dict:
    """``MEMORY USAGE`` of feeds of known sizes (fake user ids, removed afterwards)."""
    import uuid

    from feed import store
    from feed.store import Entry

    usage = {}
    for size in (1, 128, 129, 500):
        user_id = 2_000_000_000 + size
        entries = [Entry(score=1_700_000_000_000_000 + index, video_id=str(uuid.uuid4())) for index in range(size)]
        store.write_feed(user_id=user_id, entries=entries, big_creator_ids=[])
        usage[size] = store.feed_memory_bytes(user_id=user_id)
        store.write_feed(user_id=user_id, entries=[], big_creator_ids=[])
    return {
        "bytes_per_entry": round((usage[500] - usage[1]) / 499, 1),
        "usage_by_entries": usage,
        "listpack_bytes_per_entry": round((usage[128] - usage[1]) / 127, 1),
    }


def machine() -> dict:
    info = {"nproc": os.cpu_count(), "python": platform.python_version(), "kernel": platform.release()}
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            info["cpu"] = line.split(":", 1)[1].strip()
            break
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            info["memory_gib"] = round(int(line.split()[1]) / 2**20, 1)
    info["loadavg"] = Path("/proc/loadavg").read_text().split()[:3]
    return info


def headline(servers: dict) -> dict:
    """The configuration and level with peak feed req/s, with side-by-side figures there."""
    best = max(
        ((server, level) for server, levels in servers.items() for level in levels),
        key=lambda key: servers[key[0]][key[1]]["feed"]["rps"],
    )
    row = servers[best[0]][best[1]]
    return {
        "server": best[0],
        "concurrency": int(best[1]),
        "feed_rps": row["feed"]["rps"],
        "sql_feed_rps": row["sql"]["rps"],
        "floor_rps": row["floor"]["rps"],
        "writes_rps": row["writes"]["rps"],
        "feed_p50_ms": row["feed"]["p50_ms"],
        "feed_p95_ms": row["feed"]["p95_ms"],
        "feed_p99_ms": row["feed"]["p99_ms"],
        "sql_feed_p50_ms": row["sql"]["p50_ms"],
        "sql_feed_p99_ms": row["sql"]["p99_ms"],
        "floor_p99_ms": row["floor"]["p99_ms"],
        "writes_p99_ms": row["writes"]["p99_ms"],
        "feed_vs_sql": round(row["feed"]["rps"] / max(row["sql"]["rps"], 0.1), 2),
        "feed_vs_floor": round(row["feed"]["rps"] / max(row["floor"]["rps"], 0.1), 3),
    }


def main(argv=None) -> int:
    args = parse_args(argv)
    env = bench_env(args)
    os.environ.update(env)
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    import redis

    started = time.monotonic()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="bench-", dir=args.output.parent))
    processes = Processes()
    results: dict = {"date": datetime.now(tz=UTC).isoformat(timespec="seconds"), "machine": machine()}
    try:
        results["seeding"] = ensure_database(args, env)
        results["dataset"] = dataset_facts(args)
        say(f"dataset: {results['dataset']}")
        results["replica_catch_up_seconds"] = round(wait_for_replica(args.database, timeout=1800), 2)
        redis.Redis.from_url(args.redis_url).flushdb()
        inputs = sample_inputs(args, workdir)
        say(f"rebuilding {len(inputs['cohort_ids'])} cohort feeds")
        results["warm"] = warm_feeds(inputs["cohort_ids"])
        servers = http_phase(args, env, processes, inputs["files"], inputs["cohort_ids"], workdir)
        results["servers"] = servers
        results.update(headline(servers))
        results["read_non_2xx"] = sum(
            levels[level][scenario]["non_2xx"] + levels[level][scenario]["socket_errors"]
            for levels in servers.values()
            for level in levels
            for scenario in READ_SCENARIOS
        )
        results["writes_non_2xx"] = sum(
            levels[level]["writes"]["non_2xx"] for levels in servers.values() for level in levels
        )
        fanout = fanout_phase(args, env, processes, workdir) if args.fanout_sizes else {}
        results["fanout"] = fanout
        results["fanout_10k_s"] = fanout.get("10000", {}).get("seconds")
        results["fanout_100k_s"] = fanout.get("100000", {}).get("seconds")
        redis.Redis.from_url(args.redis_url).flushdb()
        memory = redis_bytes_per_entry()
        results["redis_bytes_per_entry"] = memory["bytes_per_entry"]
        results["redis_memory"] = memory
        results["targets"] = {
            "feed_10x_sql": results["feed_vs_sql"] >= 10,
            "feed_70pct_floor": results["feed_vs_floor"] >= 0.7,
            "feed_p99_25ms": results["feed_p99_ms"] <= 25,
            "fanout_100k_5s": results["fanout_100k_s"] is not None and results["fanout_100k_s"] <= 5,
        }
        results["machine"]["loadavg_end"] = Path("/proc/loadavg").read_text().split()[:3]
        results["bench_seconds"] = round(time.monotonic() - started, 1)
        results["command"] = " ".join([Path(sys.executable).name, "bench/run.py", *(argv or sys.argv[1:])])
        args.output.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
        say(f"wrote {args.output}")
        summary = {key: results[key] for key in ("server", "concurrency", "feed_rps", "sql_feed_rps", "floor_rps")}
        summary |= {key: results[key] for key in ("feed_p99_ms", "feed_vs_sql", "feed_vs_floor", "fanout_10k_s")}
        summary |= {key: results[key] for key in ("fanout_100k_s", "redis_bytes_per_entry", "read_non_2xx", "targets")}
        print(json.dumps(summary, indent=2))
        return 0
    finally:
        processes.stop_all()
        try:
            redis.Redis.from_url(args.redis_url).flushdb()
        except redis.RedisError:
            pass
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
