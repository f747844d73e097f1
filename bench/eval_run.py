"""Offline evaluation of For You: ``python bench/eval_run.py`` (``make eval``).

Creates the database ``tiktok_eval`` when missing, migrates it and runs
``manage.py eval_for_you`` on it with ``bench.settings`` (which installs the bench app),
the Redis DB of ``make bench`` (do not run both at once) and any extra arguments, e.g.
``make eval EVAL_ARGS="--users 1000 --likes 50000"``. See BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

# Run as a script (`python bench/eval_run.py`): the repository root is where `bench` imports from.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.processes import PRIMARY, REPO, pg, say  # noqa: E402
from bench.run import DEFAULT_REDIS, bench_env  # noqa: E402

DATABASE = "tiktok_eval"


def main(argv: list[str]) -> None:
    args = argparse.Namespace(database=DATABASE, redis_url=DEFAULT_REDIS)
    env = bench_env(args)
    with pg(f"{PRIMARY}/postgres") as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone():
            say(f"creating database {DATABASE}")
            connection.execute(f'CREATE DATABASE "{DATABASE}"')
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=REPO, env=env, check=True)
    subprocess.run([*manage, "eval_for_you", *argv], cwd=REPO, env=env, check=True)


if __name__ == "__main__":
    main(sys.argv[1:])
