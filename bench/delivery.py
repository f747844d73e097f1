"""Feed correctness checks run by ``make bench`` beside the throughput figures.

* ``exactness_phase``: for sampled users of the cohort, the precomputed feed paged to
  the end (``/api/v1/feed``) must equal the feed computed in SQL (``/api/v1/bench/feed-sql``)
  item by item. Reports how many users differ (the target is 0) and how far each paged.
* ``delivery_phase``: a creator uploads real clips one after another (presigned PUT, then
  ``complete``; a real worker probes, transcodes and fans out) while wrk reads ``/feed``
  with 8 connections; reports the delay from ``complete`` to the video being in every
  built follower feed (p50, p99, max) and how many never arrived within the timeout.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

DELIVERY_TIMEOUT_SECONDS = 120


def _request(method: str, url: str, *, token: str | None = None, body: dict | None = None, data: bytes | None = None,
             headers: dict | None = None, timeout: float = 30) -> tuple[int, dict]:  # fmt: skip
    headers = dict(headers or {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - loopback only
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            raw = response.read()
            return response.status, (json.loads(raw) if raw and raw[:1] in b"{[" else {})
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, (json.loads(raw) if raw and raw[:1] in b"{[" else {})


def _page_to_end(base: str, path: str, token: str, *, limit: int = 50, max_pages: int = 2000) -> list[str]:
    shown: list[str] = []
    cursor = None
    for _ in range(max_pages):
        query = f"?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        status, body = _request("GET", f"{base}{path}{query}", token=token, timeout=60)
        if status != 200:
            raise RuntimeError(f"{path} answered {status}: {body}")
        shown += [item["id"] for item in body["items"]]
        cursor = body.get("next_cursor")
        if not cursor:
            return shown
    raise RuntimeError(f"{path} did not end after {max_pages} pages")


def exactness_phase(port: int, tokens: list[str]) -> dict:
    """Page both feeds to the end for each token; they must be equal item by item."""
    base = f"http://127.0.0.1:{port}/api/v1"
    users = []
    for token in tokens:
        precomputed = _page_to_end(base, "/feed", token)
        computed = _page_to_end(base, "/bench/feed-sql", token)
        first_difference = next(
            (index for index, pair in enumerate(zip(precomputed, computed, strict=False)) if pair[0] != pair[1]),
            None if len(precomputed) == len(computed) else min(len(precomputed), len(computed)),
        )
        users.append(
            {
                "items_precomputed": len(precomputed),
                "items_sql": len(computed),
                "missing": len(set(computed) - set(precomputed)),
                "first_difference_at": first_difference,
            }
        )
    return {
        "users": len(users),
        "users_differing": sum(user["first_difference_at"] is not None for user in users),
        "items_compared": sum(user["items_sql"] for user in users),
        "detail": users,
    }


def make_clip(directory: Path, seconds: float = 3.0) -> Path:
    clip = directory / "delivery-clip.mp4"
    subprocess.run(
        [
            "ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-f", "lavfi",
            "-i", "sine", "-t", str(seconds), "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-y", str(clip),
        ],
        check=True, timeout=60,
    )  # fmt: skip
    return clip


def upload_clip(base: str, token: str, clip: Path, caption: str) -> tuple[str, float]:
    """Create, PUT and complete one upload; returns the video id and when complete answered."""
    payload = clip.read_bytes()
    status, created = _request(
        "POST", f"{base}/videos", token=token,
        body={"caption": caption, "content_type": "video/mp4", "size_bytes": len(payload)},
    )  # fmt: skip
    if status != 201:
        raise RuntimeError(f"create upload answered {status}: {created}")
    upload = created["upload"]
    put = urllib.request.Request(upload["url"], data=payload, method="PUT", headers=upload["headers"])  # noqa: S310
    with urllib.request.urlopen(put, timeout=60) as response:  # noqa: S310 - the local S3 server
        if response.status not in (200, 204):
            raise RuntimeError(f"PUT answered {response.status}")
    status, body = _request("POST", f"{base}/videos/{created['id']}/complete", token=token)
    if status != 200:
        raise RuntimeError(f"complete answered {status}: {body}")
    return created["id"], time.monotonic()


def delivery_phase(
    *, port: int, creator_token: str, follower_ids: list[int], clips: int, run_wrk, feeds_holding
) -> dict:
    """Upload ``clips`` clips while ``run_wrk()`` loads ``/feed``; time each to every follower feed.

    ``run_wrk`` runs the read load for a while and returns its figures (in a thread);
    ``feeds_holding(user_ids, video_id)`` counts the follower feeds that hold the video.
    """
    base = f"http://127.0.0.1:{port}/api/v1"
    load: dict = {}
    loader = threading.Thread(target=lambda: load.update(run_wrk()), daemon=True)
    delays: list[float] = []
    never = 0
    with tempfile.TemporaryDirectory(prefix="bench-delivery-") as directory:
        clip = make_clip(Path(directory))
        loader.start()
        time.sleep(1.0)  # the read load is on before the first upload
        for index in range(clips):
            video_id, completed_at = upload_clip(base, creator_token, clip, caption=f"delivery {index}")
            deadline = completed_at + DELIVERY_TIMEOUT_SECONDS
            while time.monotonic() < deadline:
                if feeds_holding(follower_ids, video_id) == len(follower_ids):
                    delays.append(time.monotonic() - completed_at)
                    break
                time.sleep(0.05)
            else:
                never += 1
        loader.join(timeout=DELIVERY_TIMEOUT_SECONDS)
    ordered = sorted(delays)

    def percentile(share: float) -> float | None:
        if not ordered:
            return None
        return round(ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))], 2)

    return {
        "clips": clips,
        "followers": len(follower_ids),
        "delivered": len(delays),
        "never_delivered": never,
        "delay_p50_s": percentile(0.5),
        "delay_p99_s": percentile(0.99),
        "delay_max_s": round(max(ordered), 2) if ordered else None,
        "delay_mean_s": round(statistics.fmean(ordered), 2) if ordered else None,
        "read_load": load,
    }


# --- orchestration from bench/run.py ------------------------------------------------------


def exactness_check(*, env: dict, processes, workdir: Path, cohort_ids: list[int], sample: int = 3) -> dict:
    """Before any write phase: page a few cohort users' feeds to the end both ways."""
    from bench.processes import say, start_gunicorn
    from bench.tokens import bench_token

    process, port = start_gunicorn(processes, "sync:2", env, workdir)
    try:
        result = exactness_phase(port, [bench_token(user_id) for user_id in cohort_ids[:sample]])
    finally:
        processes.stop(process)
    say(f"exactness: {result['users_differing']} of {result['users']} users differ ({result['items_compared']} items)")
    return result


def delivery_check(*, args, env: dict, processes, workdir: Path, files: dict, clips: int = 8) -> dict:
    """Real uploads by a creator with a handful of followers, under a /feed read load."""
    from bench.fanout import store_contains
    from bench.processes import BIN, PRIMARY, ensure_wrk, pg, run_wrk, say, start_gunicorn, wait_for_replica
    from bench.tokens import bench_token
    from feed import services

    with pg(f"{PRIMARY}/{args.database}") as connection:
        row = connection.execute(
            "SELECT id FROM accounts_user WHERE followers_count BETWEEN 5 AND 10 AND username LIKE 'bench\\_%%'"
            " ORDER BY id LIMIT 1"
        ).fetchone()
        if row is None:
            return {"skipped": "no creator with 5 to 10 followers"}
        creator_id = row[0]
        follower_ids = [
            follower_id
            for (follower_id,) in connection.execute(
                "SELECT follower_id FROM activity_follow WHERE followee_id = %s ORDER BY follower_id", [creator_id]
            )
        ]
    wait_for_replica(args.database, timeout=120)
    for follower_id in follower_ids:
        services.feed_rebuild(user_id=follower_id)
    worker = processes.start(
        [
            str(BIN / "celery"), "-A", "tiktok", "worker", "-Q", "media,fanout,default", "-c", "2",
            "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO", "-n", "bench-delivery@%h",
        ],
        env={**env, "LOG_LEVEL": "INFO"}, log=workdir / "delivery-worker.log",
    )  # fmt: skip
    server, port = start_gunicorn(processes, "sync:2", env, workdir)
    try:
        deadline = time.monotonic() + 60
        while b" ready." not in (workdir / "delivery-worker.log").read_bytes():
            if time.monotonic() > deadline:
                raise RuntimeError("the delivery worker did not start")
            time.sleep(0.2)
        wrk = ensure_wrk()
        duration = clips * 6 + 10
        result = delivery_phase(
            port=port,
            creator_token=bench_token(creator_id),
            follower_ids=follower_ids,
            clips=clips,
            run_wrk=lambda: run_wrk(wrk, port, "feed", 8, duration, files),
            feeds_holding=store_contains,
        )
    finally:
        processes.stop(server)
        processes.stop(worker)
    say(
        f"upload to feed under load: p50 {result['delay_p50_s']} s, p99 {result['delay_p99_s']} s, "
        f"never delivered {result['never_delivered']} of {clips}"
    )
    return result
