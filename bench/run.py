"""Load and fan-out benchmark: ``python bench/run.py --size large`` (``make bench``).

1. Makes sure the bench database ``tiktok_bench_<size>`` exists, is migrated and seeded
   (``manage.py seed_bench``), and that the replica has replayed it.
2. Rebuilds the feeds of a sample of the cohort (users following 500+ creators).
3. For each server configuration (``--servers``: gunicorn sync or gthread, granian; the
   project under ``bench.settings``: production settings plus the bench app and its
   baseline endpoints) and each concurrency level, drives ``wrk`` (a separate process,
   ``bench/wrk.lua``) at: ``bare`` (a bare Django project on the same server), ``feed``
   (``GET /api/v1/feed``, precomputed in Redis), ``sql`` (the same page computed in SQL on
   the replica), ``floor`` (minimal authenticated view) and ``writes`` (PUT like / PUT
   follow mix), each for ``--duration`` seconds, side by side. Bare Django on gunicorn
   ``sync:2`` is measured in every run too (the fixed reference across servers).
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
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

# Run as a script (`python bench/run.py`): the repository root is where `bench` imports from.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import delivery  # noqa: E402
from bench.fanout import fanout_phase  # noqa: E402
from bench.processes import (  # noqa: E402
    PRIMARY,
    REPLICA,
    REPO,
    Processes,
    ensure_wrk,
    pg,
    run_wrk,
    say,
    start_server,
    wait_for_replica,
)
from bench.report import REFERENCE_SERVER, headline, machine, redis_bytes_per_entry, targets  # noqa: E402

RESULTS = REPO / "bench" / "results"


def _stack_redis(db: int) -> str:
    """DB ``db`` of the stack's cache Redis (``REDIS_URL`` from `bin/stack env`; else its port)."""
    url = os.environ.get("REDIS_URL") or f"redis://127.0.0.1:{os.environ.get('STACK_REDIS_CACHE_PORT', '56380')}/0"
    return f"{url.rsplit('/', 1)[0]}/{db}"


# Redis DB 1 of the cache instance is used by nothing else (make run: 0; test slots: 2-8;
# the CI smoke: 9-15 by slot); see BENCHMARKS.md.
DEFAULT_REDIS = _stack_redis(1)
SCENARIOS = ("bare", "floor", "feed", "sql", "writes")
READ_SCENARIOS = ("bare", "floor", "feed", "sql")
PROFILE_SECONDS = 8
DEFAULTS = {
    "small": {"duration": 3.0, "concurrency": "8,16,32", "fanout": "1000", "cohort_sample": 200},
    "large": {"duration": 12.0, "concurrency": "8,16,32", "fanout": "10000,100000", "cohort_sample": 1000},
}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(DEFAULTS), default="large")
    parser.add_argument("--database", help="database name (default tiktok_bench_<size>)")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS, help="Redis DB for cache, durable and broker")
    parser.add_argument("--duration", type=float, help="seconds per scenario and level")
    parser.add_argument("--concurrency", help="comma-separated connection counts, e.g. 8,16,32")
    parser.add_argument(
        "--servers",
        default="sync:2",
        help="comma-separated server configurations: sync:N, gthread:NxT (gunicorn), granian:N or granian:NxT",
    )
    parser.add_argument(
        "--headline", help="configuration of the headline figures (default: the one with peak feed req/s)"
    )
    parser.add_argument("--fanout", help="comma-separated audiences to fan out to ('' to skip)")
    parser.add_argument("--cohort-sample", type=int, help="cohort users whose feeds are read")
    parser.add_argument("--seed", choices=["auto", "always", "never"], default="auto")
    parser.add_argument("--cohorts", default="100,1000,5000", help="follow counts of the cohort scenarios ('' to skip)")
    parser.add_argument(
        "--profile", action=argparse.BooleanOptionalAction, default=True, help="py-spy a feed request and a write"
    )
    parser.add_argument(
        "--delivery-clips", type=int, default=8, help="clips uploaded for the upload-to-feed delay (0 to skip)"
    )
    parser.add_argument(
        "--writes-run-tasks", action="store_true", help="the writes worker also runs the tasks (default: relays only)"
    )
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    args = parser.parse_args(argv)
    for name, value in DEFAULTS[args.size].items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.database = args.database or f"tiktok_bench_{args.size}"
    args.levels = [int(value) for value in args.concurrency.split(",") if value]
    args.fanout_sizes = [int(value) for value in args.fanout.split(",") if value]
    args.cohort_sizes = [int(value) for value in args.cohorts.split(",") if value]
    args.server_list = [value for value in args.servers.split(",") if value]
    if args.headline and args.headline not in args.server_list:
        parser.error(f"--headline {args.headline} is not one of --servers")
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
        CDN_TOKEN_SECRET="bench-only-cdn-token-secret",
        THROTTLE_WRITES="100000000/min",
        THROTTLE_AUTH="100000000/min",
        THROTTLE_UPLOADS="100000000/min",
        THROTTLE_ANON_READS="100000000/min",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


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
        # Seeded before tokens moved to knox digests (bench.tokens): the bench users have none.
        tokens = connection.execute("SELECT count(*) FROM knox_authtoken WHERE user_id = 1").fetchone()[0]
    seeded = {"seeded_now": False}
    if args.seed == "always" or (args.seed == "auto" and (users < SIZES[args.size]["users"] or not tokens)):
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


def sample_inputs(args, workdir: Path) -> dict:
    """Token and target files for wrk, and the cohort user ids."""
    from bench.tokens import bench_token

    with pg(f"{PRIMARY}/{args.database}") as connection:
        cohort = connection.execute(
            """
            SELECT u.id, t.token_key FROM accounts_user u JOIN knox_authtoken t ON t.user_id = u.id
            WHERE u.following_count >= 500 AND u.username LIKE 'bench\\_%%' ORDER BY random() LIMIT %s
            """,
            [args.cohort_sample],
        ).fetchall()
        writers = [
            row[0] for row in connection.execute("SELECT user_id FROM knox_authtoken ORDER BY random() LIMIT 5000")
        ]
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
    files["cohort"].write_text("".join(f"{bench_token(user_id)}\n" for user_id, _ in cohort))
    files["writers"].write_text("".join(f"{bench_token(user_id)}\n" for user_id in writers))
    files["targets"].write_text("".join(f"v {v}\n" for v in videos) + "".join(f"u {u}\n" for u in usernames))
    return {"cohort_ids": [user_id for user_id, _ in cohort], "files": files}


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


def read_every_first_page(port: int, tokens: Path, path: str = "/api/v1/feed?limit=10") -> None:
    """GET ``path`` (the first feed page) once per token in the file (one connection, in order)."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for token in tokens.read_text().split():
        connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        connection.getresponse().read()
    connection.close()


def clean_up(processes: Processes, redis_url: str, workdir: Path) -> None:
    """Stop every child process, empty the bench's Redis DB, remove the work directory."""
    import redis

    processes.stop_all()
    try:
        redis.Redis.from_url(redis_url).flushdb()
    except redis.RedisError:
        pass
    shutil.rmtree(workdir, ignore_errors=True)


def http_phase(args, env, processes: Processes, files: dict, cohort_ids: list[int], workdir: Path) -> dict:
    wrk = ensure_wrk()
    cohort_scenarios = [name for name in files if name.startswith("feed_f")]
    servers: dict[str, dict] = {}
    for server in args.server_list:
        process, port = start_server(processes, server, env, workdir)
        bare, bare_port = start_server(processes, server, env, workdir, app="bench.bare.wsgi")
        say(f"{server}: the project on :{port}, bare Django on :{bare_port}; warm-up")
        scenarios = [*SCENARIOS, *cohort_scenarios]
        # Every sampled reader's first page once, as an active user has read it: the card
        # JSON cache, their flags and hidden-users sets are then built, so "warm" means warm
        # for every token wrk picks, not for the ~60% a short random warm-up reaches.
        for scenario in ["feed", *cohort_scenarios]:
            read_every_first_page(port, files.get(scenario, files["cohort"]))
        for scenario in [*READ_SCENARIOS, *cohort_scenarios]:
            run_wrk(wrk, bare_port if scenario == "bare" else port, scenario, args.levels[0], 1.0, files)
        # The writers' tokens too (3 s of floor requests touch ~98% of them): a real writer has
        # been reading before they like, so writes are measured with warm authentication as
        # the reads are, not with a token-cache miss (a SQL lookup) on most requests.
        run_wrk(wrk, port, "floor", args.levels[0], 3.0, {**files, "floor": files["writers"]})
        levels = {}
        for connections in args.levels:
            row = {}
            for scenario in scenarios:
                if scenario == "feed":
                    row["feeds_rebuilt_before"] = rewarm(cohort_ids)
                target = bare_port if scenario == "bare" else port
                if scenario == "writes":
                    row[scenario] = writes_with_a_worker(args, env, processes, workdir, wrk, port, connections, files)
                else:
                    row[scenario] = run_wrk(wrk, target, scenario, connections, args.duration, files)
            levels[str(connections)] = row
            say(
                f"{server} c={connections}: "
                + "  ".join(f"{name} {row[name]['rps']:.0f} rps p99 {row[name]['p99_ms']:.1f} ms" for name in scenarios)
            )
        processes.stop(process)
        processes.stop(bare)
        servers[server] = levels
    return servers


def bare_reference(args, env, processes: Processes, servers: dict, files: dict, workdir: Path) -> dict:
    """Bare Django on ``REFERENCE_SERVER`` (gunicorn sync:2) at each level: from the run's own
    rows when that configuration was measured, else measured now (bare only, same levels and
    duration), so every run carries the same reference whatever its servers."""
    if REFERENCE_SERVER in servers:
        return {level: row["bare"] for level, row in servers[REFERENCE_SERVER].items()}
    wrk = ensure_wrk()
    bare, port = start_server(processes, REFERENCE_SERVER, env, workdir, app="bench.bare.wsgi")
    try:
        run_wrk(wrk, port, "bare", args.levels[0], 1.0, files)
        levels = {
            str(connections): run_wrk(wrk, port, "bare", connections, args.duration, files)
            for connections in args.levels
        }
    finally:
        processes.stop(bare)
    say(f"bare Django on {REFERENCE_SERVER}: " + "  ".join(f"c={c} {row['rps']:.0f} rps" for c, row in levels.items()))
    return levels


def writes_with_a_worker(args, env, processes: Processes, workdir: Path, wrk, port, connections, files) -> dict:
    """The writes scenario with a Celery worker's outbox relay running, as in production: the
    request only commits its outbox rows, the relay publishes them on the same 2 cores, so
    publishing is in the figure as it was when requests published. Running the tasks is not
    (as before): the worker consumes a queue no task goes to, unless ``--writes-run-tasks``.
    Rows and messages left when it stops are deleted (the fan-out phase must not run them)."""
    import redis

    from tiktok import db_router
    from tiktok.models import OutboxMessage

    log = workdir / f"writes-worker-{connections}.log"
    queues = "default,fanout" if args.writes_run_tasks else "bench-relay-only"
    worker = processes.start(
        [
            str(Path(sys.executable).parent / "celery"), "-A", "tiktok", "worker", "-Q", queues, "-c", "1",
            "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO",
            "-n", f"bench-writes-{os.getpid()}@%h",
        ],
        env={**env, "LOG_LEVEL": "INFO"}, log=log,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while b" ready." not in log.read_bytes():
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"writes worker not ready: {log.read_text()[-1500:]}")
            time.sleep(0.2)
        measured = run_wrk(wrk, port, "writes", connections, args.duration, files)
        with db_router.use_primary():
            measured["outbox_left"] = OutboxMessage.objects.count()
    finally:
        processes.stop(worker)
    OutboxMessage.objects.all().delete()
    redis.Redis.from_url(args.redis_url).delete("default", "fanout")
    return measured


PROFILED_SCENARIOS = ("feed", "writes")


def profile_phase(env, processes: Processes, files: dict, workdir: Path, scenario: str) -> dict:
    """py-spy breakdown of ``scenario`` requests (one sync worker, one connection)."""
    from bench import profiling

    process, port = start_server(processes, "sync:1", env, workdir)
    try:
        wrk = ensure_wrk()
        output = workdir / f"profile-{scenario}.txt"
        run_wrk(wrk, port, scenario, 1, 2.0, files)
        spy = profiling.record(pid=profiling.worker_pid(process.pid), seconds=PROFILE_SECONDS, output=output)
        time.sleep(0.5)
        measured = run_wrk(wrk, port, scenario, 1, PROFILE_SECONDS - 1.5, files)
        spy.wait(PROFILE_SECONDS + 30)
        if spy.returncode != 0 or not output.exists():
            return {"error": (spy.stderr.read() or b"").decode()[-500:]}
        result = profiling.breakdown(output, requests=measured["requests"], scenario=scenario)
        return result | {"wall_ms_per_request": measured["p50_ms"]}
    finally:
        processes.stop(process)


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
        from bench import cohorts
        from bench.management.commands.seed_bench import SIZES

        groups = cohorts.prepare(
            primary_url=f"{PRIMARY}/{args.database}",
            workdir=workdir,
            exclude=[f"bench_{index + 1}" for index in range(len(SIZES[args.size]["fanout"]))],
            follows_sizes=args.cohort_sizes,
        )
        results["cohort_follows"] = {name: group["follows"] for name, group in groups.items()}
        inputs["files"] |= {name: group["tokens"] for name, group in groups.items()}
        read_ids = inputs["cohort_ids"] + [user_id for group in groups.values() for user_id in group["user_ids"]]
        wait_for_replica(args.database, timeout=600)
        say(f"rebuilding {len(read_ids)} cohort feeds")
        results["warm"] = warm_feeds(read_ids)
        # Before any write phase (a follow made by the writes scenario would be merged
        # by a worker this phase does not run): precomputed and SQL feeds must be equal.
        results["exactness"] = delivery.exactness_check(
            env=env, processes=processes, workdir=workdir, cohort_ids=inputs["cohort_ids"]
        )
        servers = http_phase(args, env, processes, inputs["files"], read_ids, workdir)
        results["servers"] = servers
        results["bare_reference"] = bare_reference(args, env, processes, servers, inputs["files"], workdir)
        results.update(headline(servers, results["bare_reference"], server=args.headline))
        if args.profile:
            for scenario in PROFILED_SCENARIOS:
                rewarm(read_ids)
                results[f"profile_{scenario}"] = profile_phase(env, processes, inputs["files"], workdir, scenario)
                say(f"py-spy, one {scenario} request: {json.dumps(results[f'profile_{scenario}'])}")
        results["read_non_2xx"] = sum(
            levels[level][scenario]["non_2xx"] + levels[level][scenario]["socket_errors"]
            for levels in servers.values()
            for level in levels
            for scenario in READ_SCENARIOS
        ) + sum(row["non_2xx"] + row["socket_errors"] for row in results["bare_reference"].values())
        results["writes_non_2xx"] = sum(
            levels[level]["writes"]["non_2xx"] for levels in servers.values() for level in levels
        )
        # The profiled writes committed outbox rows no worker relayed: the fan-out workers'
        # relays must not publish and run them while fan-out is timed.
        from tiktok.models import OutboxMessage

        OutboxMessage.objects.all().delete()
        fanout = fanout_phase(args, env, processes, workdir) if args.fanout_sizes else {}
        results["fanout"] = fanout
        results["fanout_10k_s"] = fanout.get("10000", {}).get("seconds")
        results["fanout_100k_s"] = fanout.get("100000", {}).get("seconds")
        if args.delivery_clips:
            results["delivery"] = delivery.delivery_check(
                args=args, env=env, processes=processes, workdir=workdir, files=inputs["files"],
                clips=args.delivery_clips,
            )  # fmt: skip
        redis.Redis.from_url(args.redis_url).flushdb()
        memory = redis_bytes_per_entry()
        results["redis_bytes_per_entry"] = memory["bytes_per_entry"]
        results["redis_memory"] = memory
        results["targets"] = targets(results)
        results["machine"]["loadavg_end"] = Path("/proc/loadavg").read_text().split()[:3]
        results["bench_seconds"] = round(time.monotonic() - started, 1)
        results["command"] = " ".join([Path(sys.executable).name, "bench/run.py", *(argv or sys.argv[1:])])
        args.output.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
        say(f"wrote {args.output}")
        keys = ("server", "concurrency", "bare_gunicorn_sync_rps", "bare_rps", "floor_rps", "feed_rps")
        keys += ("sql_feed_rps", "writes_rps", "bare_p99_ms", "floor_p99_ms", "feed_p99_ms", "sql_feed_p99_ms")
        keys += ("writes_p99_ms", "cohorts", "feed_vs_bare", "feed_vs_bare_gunicorn_sync", "floor_vs_bare")
        keys += ("floor_vs_bare_gunicorn_sync", "feed_vs_floor", "feed_vs_sql", "fanout_10k_s", "fanout_100k_s")
        keys += ("redis_bytes_per_entry", "read_non_2xx", "targets")
        summary = {key: results[key] for key in keys}
        for scenario in PROFILED_SCENARIOS:
            summary[f"profile_{scenario}"] = results.get(f"profile_{scenario}", {}).get("categories")
        print(json.dumps(summary, indent=2))
        return 0
    finally:
        clean_up(processes, args.redis_url, workdir)


if __name__ == "__main__":
    sys.exit(main())
