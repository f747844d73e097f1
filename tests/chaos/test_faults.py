"""Fault injection with real processes (``make chaos``): the primary stopped, a worker
SIGKILLed mid-processing and mid-fan-out, two beat processes started by mistake.

Each test is bounded in time and restores what it broke.
"""

import os
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connections

from demo.clips import render_clip
from feed import services as feed_services
from feed import store
from tests.factories import FollowFactory, UserFactory, VideoFactory
from tests.helpers.api import client_for
from tests.helpers.stack import REPO, WorkerProcess, stack, wait_for_replica_to_catch_up, wait_until, worker_env
from videos.models import Video, VideoStatus

pytestmark = [pytest.mark.chaos, pytest.mark.django_db(transaction=True)]

# Workers here use a short visibility timeout so a killed worker's task comes back fast,
# and a short outbox resend delay (after it) for a message the killed worker took with it.
FAST_REDELIVERY = {
    "CELERY_VISIBILITY_TIMEOUT_SECONDS": "20",
    "CELERY_UNACKED_RESTORE_INTERVAL_SECONDS": "2",
    "OUTBOX_RESEND_AFTER_SECONDS": "25",
}


@pytest.fixture
def eager_off():
    from tiktok.celery import app

    app.conf.task_always_eager = False
    with app.connection_for_write() as connection:
        for queue in ("default", "media", "fanout"):
            connection.default_channel.queue_purge(queue)
    yield app
    app.conf.task_always_eager = True


def start_worker(tmp_path, name: str, *, concurrency: int = 1, **env) -> WorkerProcess:
    worker = WorkerProcess(REPO / "test-artifacts" / f"{name}-{tmp_path.name}.log", concurrency, FAST_REDELIVERY | env)
    worker.start()
    return worker


def test_primary_stopped_reads_keep_working_and_writes_get_a_clear_503():
    from activity.models import Comment, Like

    creator, fan = UserFactory(), UserFactory()
    FollowFactory(follower=fan, followee=creator)
    video = VideoFactory(owner=creator)
    client = client_for(fan)
    wait_for_replica_to_catch_up()
    assert [item["id"] for item in client.get("/api/v1/feed").json()["items"]] == [str(video.id)]
    stack("stop", "pg-primary", "--immediate")
    try:
        for _ in range(3):
            feed = client.get("/api/v1/feed")
            assert feed.status_code == 200, feed.content
            assert [item["id"] for item in feed.json()["items"]] == [str(video.id)]
            assert client.get(f"/api/v1/videos/{video.id}").status_code == 200
        like = client.put(f"/api/v1/videos/{video.id}/like")
        assert like.status_code == 503
        assert like.json()["error"]["code"] == "database_unavailable"
        assert like["Retry-After"]
        comment = client.post(f"/api/v1/videos/{video.id}/comments", {"text": "hi"}, format="json")
        assert comment.status_code == 503
    finally:
        stack("start", "pg-primary")
        for alias in connections:
            connections[alias].close()
    # Nothing half-written: no like, no comment, no counter change.
    assert not Like.objects.filter(video=video).exists()
    assert not Comment.objects.filter(video=video).exists()
    video.refresh_from_db()
    assert video.likes_count == 0
    assert client.put(f"/api/v1/videos/{video.id}/like").status_code == 200


@pytest.mark.worker
def test_worker_killed_mid_processing_leaves_the_video_retryable_not_stuck(eager_off, tmp_path):
    from tests.helpers.videos import upload

    owner = UserFactory()
    client = client_for(owner)
    clip = render_clip(tmp_path / "clip.mp4", seconds=20, pattern="testsrc2", size="1280x720")
    video_id = upload(client, clip)
    worker = start_worker(tmp_path, "worker-killed")
    assert client.post(f"/api/v1/videos/{video_id}/complete").status_code == 200

    def started():
        video = Video.objects.get(id=video_id)
        return video.processing_attempts >= 1 and video.status == VideoStatus.PROCESSING

    wait_until(started, timeout=30, interval=0.05, message="processing to start")
    worker.kill_all()
    assert Video.objects.get(id=video_id).status == VideoStatus.PROCESSING
    replacement = start_worker(tmp_path, "worker-replacement")
    try:
        wait_until(
            lambda: Video.objects.get(id=video_id).status == VideoStatus.READY,
            timeout=120,
            message="the redelivered task to finish processing",
        )
    finally:
        replacement.stop()
    video = Video.objects.get(id=video_id)
    assert video.processing_attempts >= 2
    assert video.hls_master_key and video.poster


@pytest.mark.worker
def test_worker_killed_mid_fanout_every_follower_ends_up_with_the_video_once(eager_off, tmp_path):
    from accounts.models import User
    from activity.models import Follow

    creator = UserFactory()
    fans = User.objects.bulk_create([User(username=f"fan{i}", password="!") for i in range(3000)])
    Follow.objects.bulk_create([Follow(follower=fan, followee=creator) for fan in fans])
    for fan in fans:
        store.write_feed(user_id=fan.pk, entries=[], big_creator_ids=[])
    video = VideoFactory(owner=creator)
    wait_for_replica_to_catch_up()
    worker = start_worker(tmp_path, "fanout-killed", FANOUT_BATCH_SIZE="25")
    from tiktok import outbox

    # As a publish starts it: through the outbox, as are the batches the plan records.
    outbox.enqueue_on_commit("feed.tasks.fanout_video", str(video.id))

    def delivered() -> int:
        return sum(store.feed_size(user_id=fan.pk) for fan in fans[::50])

    wait_until(lambda: delivered() > 0, timeout=30, interval=0.02, message="the first fan-out batch")
    worker.kill_all()
    partial = delivered()
    replacement = start_worker(tmp_path, "fanout-replacement", FANOUT_BATCH_SIZE="25")
    try:
        wait_until(
            lambda: all(store.feed_size(user_id=fan.pk) == 1 for fan in fans),
            timeout=120,
            interval=0.5,
            message="every follower to have the video",
        )
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {fanout_shortfall(fans)}") from exc
    finally:
        replacement.stop()
    assert partial <= len(fans[::50])
    client = client_for(UserFactory())
    assert client.get("/api/v1/feed").status_code == 200


def fanout_shortfall(fans) -> dict:
    """Which followers lack the video, and what is left in the broker and the outbox."""
    import redis

    from tiktok import outbox

    client = store.client()
    missing = [fan.pk for fan in fans if store.feed_size(user_id=fan.pk) != 1]
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    return {
        "followers_without_it": len(missing),
        "their_ids": f"{missing[:3]}..{missing[-3:]}",
        "their_feeds_built": sum(client.exists(store.FEED_META_KEY.format(user_id=pk)) for pk in missing),
        "queued": {queue: broker.llen(queue) for queue in ("default", "fanout", "media")},
        "unacked": broker.hlen("unacked"),
        "outbox": (outbox.pending_count(), outbox.in_flight_count()),
    }


@pytest.mark.worker
def test_two_beat_processes_fire_each_tick_once(eager_off, tmp_path):
    from django.core.cache import caches

    from tiktok.tasks import WORKER_HEARTBEAT_COUNT_KEY

    worker = start_worker(tmp_path, "beat-worker")
    env = worker_env() | {"WORKER_HEARTBEAT_SECONDS": "1", "CELERY_REDBEAT_LOCK_TIMEOUT": "5"}
    beats = []
    try:
        for index in range(2):
            log = open(REPO / "test-artifacts" / f"beat{index}-{tmp_path.name}.log", "ab")  # noqa: SIM115
            beats.append(
                subprocess.Popen(
                    [sys.executable, "-m", "celery", "-A", "tiktok", "beat", "-l", "INFO", "--max-interval", "1"],
                    cwd=REPO,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        wait_until(lambda: (caches["durable"].get(WORKER_HEARTBEAT_COUNT_KEY) or 0) > 0, timeout=60, message="a tick")
        start = caches["durable"].get(WORKER_HEARTBEAT_COUNT_KEY) or 0
        time.sleep(8)
        ticks = (caches["durable"].get(WORKER_HEARTBEAT_COUNT_KEY) or 0) - start
    finally:
        for beat in beats:
            beat.terminate()
        for beat in beats:
            beat.wait(timeout=30)
        worker.stop()
    # One beat holds RedBeat's lock: about 8 ticks in 8 s, not about 16.
    assert 4 <= ticks <= 11, ticks


def test_duplicate_delivery_of_feed_and_counter_tasks_gives_the_same_end_state():
    from activity.engagement import counters
    from activity.models import Like
    from feed import tasks

    creator, fan = UserFactory(), UserFactory()
    FollowFactory(follower=fan, followee=creator)
    feed_services.feed_rebuild(user_id=fan.pk)
    video = VideoFactory(owner=creator)
    for _ in range(2):
        tasks.fanout_video(str(video.id))
        tasks.merge_creator_into_feed(fan.pk, creator.pk)
    assert store.feed_size(user_id=fan.pk) == 1
    Like.objects.create(user=fan, video=video)
    counters.counter_add(entity="video", object_id=video.pk, counter="likes", delta=1)
    for _ in range(2):
        counters.counter_flush()
    video.refresh_from_db()
    assert video.likes_count == 1
    for _ in range(2):
        tasks.purge_video(str(video.id), creator.pk)
    assert store.feed_size(user_id=fan.pk) == 1  # still public: purge is a no-op
    assert os.environ.get("TEST_SLOT") is not None
    assert settings.CELERY_TASK_ACKS_LATE
