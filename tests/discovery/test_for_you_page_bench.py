"""Smoke of the For You bench (``bench/for_you_bench.py``): a very short run on the small
data set, in the test slot's bench database and Redis DB (see tests/bench/test_bench_smoke.py).
It checks that the scenario works (every reader's For You page answered 200), not a speed."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_for_you_bench_measures_for_you_beside_the_feed_and_the_floor(tmp_path):
    if settings.REDIS_CACHE_CLUSTER:
        pytest.skip("the bench runs on its own single-node Redis DB (make test covers it)")
    slot = int(os.environ["TEST_SLOT"])
    cache_server = os.environ["REDIS_URL"].rsplit("/", 1)[0]  # the stack's cache Redis (tests/settings.py)
    output = tmp_path / "for-you.json"
    command = [
        sys.executable, "bench/for_you_bench.py", "--size", "small",
        "--database", f"tiktok_bench_smoke_{slot}", "--redis-url", f"{cache_server}/{9 + slot}",
        "--duration", "1", "--concurrency", "4", "--cohort-sample", "5", "--output", str(output),
    ]  # fmt: skip
    completed = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=420)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]

    results = json.loads(output.read_text())
    level = results["levels"]["4"]
    for scenario in ("floor", "feed", "for_you"):
        assert level[scenario]["requests"] > 0
    assert level["for_you"]["statuses"] == {"200": level["for_you"]["requests"]}
    assert results["non_2xx"] == 0
    assert results["for_you_lists"]["lists"] == 5
