"""Fan-out phase of the bench: two Celery workers deliver one new video to 10^4 / 10^5
followers whose feeds exist, timed until the queues drain and every feed holds it."""

from __future__ import annotations

import os
import time
from pathlib import Path

from bench.processes import BIN, PRIMARY, Processes, pg, say, wait_for_replica

FANOUT_FEED_ENTRIES = 5  # entries in each follower feed built before a fan-out


def store_contains(user_ids: list[int], video_id: str) -> int:
    """How many of the users' feeds hold the video (feeds hold its feed id, not its UUID)."""
    from feed import store
    from tiktok import db_router
    from videos.models import Video

    with db_router.use_primary():
        feed_id = Video.objects.filter(id=video_id).values_list("feed_id", flat=True).first()
    return 0 if feed_id is None else store.feeds_containing(user_ids=user_ids, feed_id=feed_id)


def queues_drained(broker) -> bool:
    pipe = broker.pipeline(transaction=False)
    pipe.llen("fanout")
    pipe.llen("default")
    pipe.hlen("unacked")
    return not any(pipe.execute())


def fanout_phase(args, env, processes: Processes, workdir: Path) -> dict:
    import redis
    from django.conf import settings
    from django.utils import timezone

    from feed import selectors, store, tasks
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
                delivered = store.feeds_containing(user_ids=follower_ids, feed_id=video.feed_id)
                if delivered == len(follower_ids):
                    break
                done_at = None
            seconds = round(done_at - started, 3) if done_at else None
            results[str(size)] = {
                "creator_id": creator_id,
                "followers": followers,
                "feeds_built": len(follower_ids),
                "batch_size": settings.FANOUT_BATCH_SIZE,  # followers per fan-out task
                "feed_build_seconds": round(build_seconds, 2),
                "seconds": seconds,
                "delivered": delivered,
                "feed_id": video.feed_id,
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
