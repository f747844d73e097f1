"""For You on the hot path: ``python bench/for_you_bench.py --size small``.

Side by side in one window and one gunicorn configuration: the authenticated floor, the
following feed and For You (``GET /api/v1/feed/for-you``), warm for a sample of the cohort
``bench/run.py`` reads (feeds and For You lists built, every first page read once, so cards,
flags and hidden-users sets are cached, as for an active user). Reuses ``bench/run.py``'s
database, environment, Redis DB and wrk driver (run it under ``flock /tmp/bench.lock`` like
every bench); prints one JSON object (``--output`` also writes it), touches no other result.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

# Run as a script: the repository root is where ``bench`` imports from.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import run  # noqa: E402
from bench.processes import Processes, ensure_wrk, run_wrk, say, start_gunicorn, wait_for_replica  # noqa: E402

SCENARIOS = ("floor", "feed", "for_you")
PATHS = {"feed": "/api/v1/feed?limit=10", "for_you": "/api/v1/feed/for-you?limit=10"}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(run.DEFAULTS), default="small")
    parser.add_argument("--database", help="database name (default tiktok_bench_<size>)")
    parser.add_argument("--redis-url", default=run.DEFAULT_REDIS, help="Redis DB for cache, durable and broker")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per scenario and level")
    parser.add_argument("--concurrency", default="16", help="comma-separated connection counts")
    parser.add_argument("--server", default="sync:2", help="gunicorn configuration (see bench/run.py)")
    parser.add_argument("--cohort-sample", type=int, default=200, help="readers (users following 500+)")
    parser.add_argument("--seed", choices=["auto", "always", "never"], default="auto")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    args.database = args.database or f"tiktok_bench_{args.size}"
    args.levels = [int(value) for value in args.concurrency.split(",") if value]
    return args


def build_for_you_lists(user_ids: list[int]) -> dict:
    from discovery import for_you

    timings = []
    for user_id in user_ids:
        started = time.perf_counter()
        for_you.for_you_rebuild(user_id=user_id)
        timings.append(time.perf_counter() - started)
    return {
        "lists": len(user_ids),
        "build_ms_p50": round(statistics.median(timings) * 1000, 1),
        "build_ms_max": round(max(timings) * 1000, 1),
    }


def measure(args, env: dict[str, str], processes: Processes, files: dict, workdir: Path) -> dict:
    wrk = ensure_wrk()
    process, port = start_gunicorn(processes, args.server, env, workdir)
    for path in PATHS.values():
        run.read_every_first_page(port, files["cohort"], path)
    for scenario in SCENARIOS:
        run_wrk(wrk, port, scenario, args.levels[0], 1.0, files)
    levels = {}
    for connections in args.levels:
        row = {scenario: run_wrk(wrk, port, scenario, connections, args.duration, files) for scenario in SCENARIOS}
        levels[str(connections)] = row
        say(
            f"{args.server} c={connections}: "
            + "  ".join(f"{name} {row[name]['rps']:.0f} rps p99 {row[name]['p99_ms']:.1f} ms" for name in SCENARIOS)
        )
    processes.stop(process)
    return levels


def main(argv=None) -> int:
    args = parse_args(argv)
    env = run.bench_env(args)
    os.environ.update(env)
    import django

    django.setup()
    import redis

    workdir = Path(tempfile.mkdtemp(prefix="bench-for-you-", dir=run.RESULTS))
    processes = Processes()
    try:
        run.ensure_database(args, env)
        wait_for_replica(args.database, timeout=600)
        redis.Redis.from_url(args.redis_url).flushdb()
        inputs = run.sample_inputs(args, workdir)
        say(f"warming {len(inputs['cohort_ids'])} feeds and For You lists")
        results = {
            "size": args.size,
            "server": args.server,
            "warm_feeds": run.warm_feeds(inputs["cohort_ids"]),
            "for_you_lists": build_for_you_lists(inputs["cohort_ids"]),
        }
        levels = measure(args, env, processes, inputs["files"], workdir)
        results["levels"] = levels
        results["non_2xx"] = sum(row[name]["non_2xx"] for row in levels.values() for name in SCENARIOS)
        for level, row in levels.items():
            results[f"for_you_vs_feed_c{level}"] = round(row["for_you"]["rps"] / row["feed"]["rps"], 2)
            results[f"for_you_vs_floor_c{level}"] = round(row["for_you"]["rps"] / row["floor"]["rps"], 2)
        text = json.dumps(results, indent=2, sort_keys=True)
        if args.output:
            args.output.write_text(text + "\n")
        print(text)
        return 0
    finally:
        run.clean_up(processes, args.redis_url, workdir)


if __name__ == "__main__":
    sys.exit(main())
