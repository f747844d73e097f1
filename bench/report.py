"""What ``bench/run.py`` reports: the headline figures, the targets of the issues, the
machine, and Redis bytes per feed entry."""

from __future__ import annotations

import os
import platform
from pathlib import Path

HEADLINE_CONCURRENCY = 16  # the level the targets are read at (peak feed req/s without it)
# Bare Django on this configuration is in every run (``bare_gunicorn_sync_rps``): a reference
# that does not move with the server the headline figures are taken on (``bare_rps``).
REFERENCE_SERVER = "sync:2"


def redis_bytes_per_entry() -> dict:
    """``MEMORY USAGE`` of feeds of known sizes holding the bench database's newest videos
    (real feed ids and scores, written under fake user ids, removed afterwards)."""
    from django.conf import settings

    from feed import selectors, store

    newest = selectors.entries_for(selectors.public_videos(), limit=500)
    usage = {}
    for size in (1, 128, 129, 500):
        user_id = 2_000_000_000 + size
        store.write_feed(user_id=user_id, entries=newest[:size], big_creator_ids=[])
        usage[size] = store.feed_memory_bytes(user_id=user_id)
        if size == 500:
            encoding = store.client().object("encoding", store.FEED_KEY.format(user_id=user_id)).decode()
        store.write_feed(user_id=user_id, entries=[], big_creator_ids=[])
    listpack_entries = store.client().config_get("zset-max-listpack-entries")["zset-max-listpack-entries"]
    return {
        "bytes_per_entry": round((usage[500] - usage[1]) / 499, 1),
        "usage_by_entries": usage,
        "encoding_500": encoding,
        "largest_feed_id": max(entry.feed_id for entry in newest),
        "feed_max_items": settings.FEED_MAX_ITEMS,
        "zset_max_listpack_entries": int(listpack_entries),
        "feeds_per_gib": 2**30 // usage[500],
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


def headline(servers: dict, reference: dict, server: str | None = None) -> dict:
    """Side-by-side figures at ``HEADLINE_CONCURRENCY`` (else at the level of peak feed req/s),
    on ``server`` (default: the configuration with peak feed req/s there). ``bare_rps`` is bare
    Django on that server; ``bare_gunicorn_sync_rps`` is ``reference`` (bare Django on
    ``REFERENCE_SERVER``, by level) at the same level, and ``*_vs_bare_gunicorn_sync`` ratios
    are taken against it."""
    candidates = [(name, level) for name, levels in servers.items() for level in levels if server in (None, name)]
    at_level = [key for key in candidates if key[1] == str(HEADLINE_CONCURRENCY)]
    best = max(at_level or candidates, key=lambda key: servers[key[0]][key[1]]["feed"]["rps"])
    row = servers[best[0]][best[1]]
    figures: dict = {"server": best[0], "concurrency": int(best[1])}
    names = {"bare": "bare", "floor": "floor", "feed": "feed", "sql": "sql_feed", "writes": "writes"}
    for scenario, name in names.items():
        figures[f"{name}_rps"] = row[scenario]["rps"]
        for percentile in ("p50", "p95", "p99"):
            figures[f"{name}_{percentile}_ms"] = row[scenario][f"{percentile}_ms"]
    figures["cohorts"] = {
        scenario: {key: row[scenario][key] for key in ("rps", "p50_ms", "p99_ms")}
        for scenario in row
        if scenario.startswith("feed_f")
    }
    ratio = lambda a, b: round(row[a]["rps"] / max(row[b]["rps"], 0.1), 3)  # noqa: E731
    bare_sync = reference[best[1]]
    figures |= {"bare_gunicorn_sync_rps": bare_sync["rps"], "bare_gunicorn_sync_p99_ms": bare_sync["p99_ms"]}
    figures |= {
        f"{name}_vs_bare_gunicorn_sync": round(row[name]["rps"] / max(bare_sync["rps"], 0.1), 3)
        for name in ("bare", "floor", "feed", "writes")
    }
    figures |= {
        "feed_vs_sql": ratio("feed", "sql"),
        "feed_vs_floor": ratio("feed", "floor"),
        "feed_vs_bare": ratio("feed", "bare"),
        "floor_vs_bare": ratio("floor", "bare"),
        "writes_vs_floor": ratio("writes", "floor"),
        "feed_p99_vs_bare_p99": round(row["feed"]["p99_ms"] / max(row["bare"]["p99_ms"], 0.01), 2),
    }
    cohorts = sorted(figures["cohorts"], key=lambda name: int(name.removeprefix("feed_f")))
    if len(cohorts) >= 2:
        figures["cohort_p99_largest_vs_smallest"] = round(
            row[cohorts[-1]]["p99_ms"] / max(row[cohorts[0]]["p99_ms"], 0.01), 2
        )
    return figures


def targets(results: dict) -> dict:
    """The issue's targets, each True/False (None: not measured in this run)."""
    fanout = results.get("fanout_100k_s")
    cohort_ratio = results.get("cohort_p99_largest_vs_smallest")
    return {
        "feed_35pct_bare": results["feed_vs_bare"] >= 0.35,
        "feed_70pct_floor": results["feed_vs_floor"] >= 0.7,
        "floor_50pct_bare": results["floor_vs_bare"] >= 0.5,
        "feed_20x_sql": results["feed_vs_sql"] >= 20,
        "feed_p99_3x_bare": results["feed_p99_vs_bare_p99"] <= 3,
        "cohort_p99_flat_1_2x": None if cohort_ratio is None else cohort_ratio <= 1.2,
        "writes_40pct_floor": results["writes_vs_floor"] >= 0.4,
        "redis_24_bytes_per_entry": results["redis_bytes_per_entry"] <= 24,
        "fanout_100k_2s": bool(fanout and fanout <= 2) if "100000" in results["fanout"] else None,
    }
