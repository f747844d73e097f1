"""CI smoke for the benchmark: the small data set and a very short run, end to end.

It checks that the benchmark works (every result key, no failed read), not a speed.
Resources are per test slot (see tests/settings.py): database ``tiktok_bench_smoke_<slot>``
and Redis DB ``9 + slot`` of the cache instance (:56380) for cache, durable keys and the
broker together. Test slots use :56379 DBs 2-15 and :56380 DBs 2-8, ``make run`` uses
:56379 DBs 0-1 and :56380 DB 0, ``make bench`` uses :56380 DB 1.
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


@pytest.mark.slow
@pytest.mark.worker
def test_bench_runs_end_to_end_on_the_small_data_set(tmp_path):
    slot = int(os.environ["TEST_SLOT"])
    latest_before = _mtime(LATEST)
    output = tmp_path / "latest.json"
    command = [
        sys.executable, "bench/run.py", "--size", "small",
        "--database", f"tiktok_bench_smoke_{slot}", "--redis-url", f"redis://127.0.0.1:56380/{9 + slot}",
        "--duration", "1", "--concurrency", "8", "--servers", "gthread:2x4",
        "--fanout", "1000", "--cohort-sample", "10", "--cohorts", "100", "--no-profile", "--delivery-clips", "2",
        "--output", str(output),
    ]  # fmt: skip
    completed = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=420)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]

    results = json.loads(output.read_text())
    assert RESULT_KEYS <= results.keys()
    assert results["read_non_2xx"] == 0
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
