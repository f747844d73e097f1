"""CI smoke for the benchmark: the small data set and a very short run, end to end.

It checks that the benchmark works (every result key, no failed read), not a speed.
Resources are per test slot (see tests/settings.py): database ``tiktok_bench_smoke_<slot>``
and Redis DB ``9 + slot`` of the stack's cache instance (``REDIS_URL``, :56380 by default)
for cache, durable keys and the broker together. Test slots use the broker's DBs 2-15 and
the cache's DBs 2-8, ``make run`` the broker's DBs 0-1 and the cache's DB 0, ``make bench``
the cache's DB 1.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LATEST = REPO / "bench" / "results" / "latest.json"
RESULT_KEYS = {
    "bare_rps",
    "bare_gunicorn_sync_rps",
    "floor_vs_bare",
    "floor_vs_bare_gunicorn_sync",
    "feed_vs_bare_gunicorn_sync",
    "writes_vs_floor",
    "feed_rps",
    "sql_feed_rps",
    "floor_rps",
    "feed_p50_ms",
    "feed_p99_ms",
    "sql_feed_p99_ms",
    "concurrency",
    "fanout_10k_s",
    "fanout_100k_s",
    "redis_bytes_per_entry",
    "dataset",
    "date",
    "servers",
    "writes_rps",
    "read_non_2xx",
    "targets",
    "machine",
}


def _mtime(path: Path) -> float | None:
    return path.stat().st_mtime if path.exists() else None


def _bench(tmp_path, *options: str) -> dict:
    """``bench/run.py`` on the small set in the slot's database and Redis DB; its results."""
    slot = int(os.environ["TEST_SLOT"])
    cache_server = os.environ["REDIS_URL"].rsplit("/", 1)[0]  # the stack's cache Redis (tests/settings.py)
    output = tmp_path / "latest.json"
    command = [
        sys.executable, "bench/run.py", "--size", "small",
        "--database", f"tiktok_bench_smoke_{slot}", "--redis-url", f"{cache_server}/{9 + slot}",
        "--duration", "1", "--concurrency", "8", "--cohort-sample", "10", "--no-profile",
        "--output", str(output), *options,
    ]  # fmt: skip
    completed = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=420)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return json.loads(output.read_text())


@pytest.mark.slow
@pytest.mark.worker
def test_bench_runs_end_to_end_on_the_small_data_set(tmp_path):
    latest_before = _mtime(LATEST)
    results = _bench(
        tmp_path, "--servers", "gthread:2x4", "--fanout", "1000", "--cohorts", "100", "--delivery-clips", "2"
    )
    assert RESULT_KEYS <= results.keys()
    assert results["read_non_2xx"] == 0
    # Bare Django on gunicorn sync:2, the reference of every run, measured though not a --servers entry.
    assert results["bare_reference"]["8"]["statuses"] == {"200": results["bare_reference"]["8"]["requests"]}
    assert results["bare_gunicorn_sync_rps"] == results["bare_reference"]["8"]["rps"] > 0
    for scenario in ("bare", "feed", "sql", "floor", "writes", "feed_f100"):
        assert results["servers"]["gthread:2x4"]["8"][scenario]["requests"] > 0
    assert results["servers"]["gthread:2x4"]["8"]["floor"]["statuses"] == {
        "200": results["servers"]["gthread:2x4"]["8"]["floor"]["requests"]
    }
    assert set(results["targets"]) >= {
        "feed_35pct_bare",
        "feed_70pct_floor",
        "feed_20x_sql",
        "redis_24_bytes_per_entry",
    }
    fanout = results["fanout"]["1000"]
    assert fanout["delivered"] == fanout["feeds_built"] == 1000
    assert results["redis_bytes_per_entry"] > 0
    # Paged to the end, the precomputed feed of each sampled cohort user equals the SQL feed.
    assert results["exactness"]["users"] > 0 and results["exactness"]["users_differing"] == 0
    # Real uploads reach every follower feed under a /feed read load.
    assert results["delivery"]["delivered"] == 2 and results["delivery"]["never_delivered"] == 0
    assert _mtime(LATEST) == latest_before  # the committed results are left alone


@pytest.mark.slow
@pytest.mark.worker
def test_bench_compares_granian_with_gunicorn_and_bare_django_on_each(tmp_path):
    latest_before = _mtime(LATEST)
    results = _bench(
        tmp_path, "--servers", "sync:2,granian:2", "--headline", "granian:2",
        "--fanout", "", "--cohorts", "", "--delivery-clips", "0",
    )  # fmt: skip

    assert RESULT_KEYS <= results.keys()
    assert results["read_non_2xx"] == 0
    # Each server serves the project and the bare Django project, side by side.
    for server in ("sync:2", "granian:2"):
        row = results["servers"][server]["8"]
        for scenario in ("bare", "feed", "sql", "floor", "writes"):
            assert row[scenario]["requests"] > 0
        assert row["feed"]["statuses"] == {"200": row["feed"]["requests"]}
    assert results["server"] == "granian:2"
    assert results["bare_rps"] == results["servers"]["granian:2"]["8"]["bare"]["rps"]
    assert results["bare_gunicorn_sync_rps"] == results["servers"]["sync:2"]["8"]["bare"]["rps"]
    assert _mtime(LATEST) == latest_before
