"""A published video reaches every built follower feed exactly once however far behind the
replica is: the real worker's fan-out and its batches run while replica replay is paused.

(The defect this guards against: the batch task re-read the video on a replica that had
not replayed the publish, found nothing, and delivered to no one.)"""

import time
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from feed import page_store, services, store
from tests.factories import FollowFactory, UserFactory, VideoFactory
from tests.helpers.api import client_for
from tests.helpers.stack import WorkerProcess, replica_paused, wait_for_replica_to_catch_up, wait_until
from tiktok import db_router
from tiktok.outbox import enqueue_on_commit
from videos.services import video_published

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def replica(sql: str, params: list | None = None):
    with connections["replica"].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


@pytest.fixture
def lag_tolerant_worker(transactional_db, tmp_path, settings):
    """A real worker that keeps reading a lagging replica (no lag bound to hide behind),
    with fan-out batches of two followers, so one publish makes several batch tasks."""
    from tests.helpers.stack import REPO
    from tiktok.celery import app

    app.conf.task_always_eager = False
    with app.connection_for_write() as connection:
        for queue in ("default", "media", "fanout"):
            connection.default_channel.queue_purge(queue)
    worker = WorkerProcess(
        REPO / "test-artifacts" / f"worker-{tmp_path.name}.log",
        extra_env={"DATABASE_REPLICA_MAX_LAG_SECONDS": "600", "FANOUT_BATCH_SIZE": "2"},
    )
    worker.start()
    yield worker
    worker.stop()
    app.conf.task_always_eager = True


def publish_as_processing_does(creator):
    """Publish in a transaction, fan-out enqueued after commit through the outbox,
    carrying the publish's WAL position (as the processing task does)."""
    from django.db import transaction

    with db_router.scope(), transaction.atomic():
        video = VideoFactory(owner=creator)
        video_published(video_id=video.id)
    return video


def test_a_video_published_while_replay_is_paused_reaches_every_follower_once(lag_tolerant_worker):
    creator = UserFactory()
    fans = UserFactory.create_batch(7)
    for fan in fans:
        FollowFactory(follower=fan, followee=creator)
    for user in fans:
        services.feed_rebuild(user_id=user.pk)
    wait_for_replica_to_catch_up()
    replica("SELECT pg_wal_replay_pause()")
    try:
        video = publish_as_processing_does(creator)
        # The replica cannot see the video at all while replay is paused.
        assert replica("SELECT count(*) FROM videos_video WHERE id = %s", [video.id]) == (0,)

        def delivered():
            return all(store.feeds_containing(user_ids=[fan.pk], feed_id=video.feed_id) == 1 for fan in fans)

        wait_until(delivered, timeout=30, message="fan-out to every follower while the replica is paused")
        time.sleep(2)  # replay still paused
    finally:
        replica("SELECT pg_wal_replay_resume()")
    wait_for_replica_to_catch_up()
    for fan in fans:
        read = page_store.read_page(user_id=fan.pk, max_score=None, count=100, today="-")
        assert [entry.feed_id for entry in read.entries].count(video.feed_id) == 1


def test_a_follower_sees_a_video_the_paused_replica_has_not_replayed(lag_tolerant_worker):
    """Fan-out puts the entry in Redis before the replica has the row: the follower's page
    (read on the replica, card not cached yet) must show it, not skip it as gone."""
    creator, fan = UserFactory(), UserFactory()
    FollowFactory(follower=fan, followee=creator)
    client = client_for(fan)  # logged in (a write) before the pause: reads go to the replica
    services.feed_rebuild(user_id=fan.pk)
    wait_for_replica_to_catch_up()
    with replica_paused():
        video = publish_as_processing_does(creator)
        wait_until(
            lambda: store.feeds_containing(user_ids=[fan.pk], feed_id=video.feed_id) == 1,
            message="fan-out while the replica is paused",
        )
        assert replica("SELECT count(*) FROM videos_video WHERE id = %s", [video.id]) == (0,)
        response = client.get("/api/v1/feed")
        assert response.status_code == 200, response.content
        assert [item["id"] for item in response.json()["items"]] == [str(video.id)]


def test_a_follow_merge_and_a_rebuild_on_a_paused_replica_lose_nothing(lag_tolerant_worker):
    creator, fan = UserFactory(), UserFactory()
    older = VideoFactory(owner=creator, published_at=timezone.now() - timedelta(hours=1))
    services.feed_rebuild(user_id=fan.pk)
    wait_for_replica_to_catch_up()
    replica("SELECT pg_wal_replay_pause()")
    try:
        newer = VideoFactory(owner=creator, published_at=timezone.now() - timedelta(minutes=1))
        with db_router.scope():
            from django.db import transaction

            with transaction.atomic():
                FollowFactory(follower=fan, followee=creator)
                enqueue_on_commit("feed.tasks.merge_creator_into_feed", fan.pk, creator.pk)

        def merged():
            return store.feed_size(user_id=fan.pk) == 2

        wait_until(merged, timeout=30, message="the follow merge on a paused replica")
        # The periodic refresh rebuilds the feed in the worker, without any write position:
        # it must not replace the feed with what the paused replica has (nothing).
        from feed import tasks

        rebuilds = store.stats().get("rebuilds", 0)
        tasks.rebuild_feed.apply_async((fan.pk,), headers={"db_min_lsn": None})  # as beat sends it
        wait_until(lambda: store.stats().get("rebuilds", 0) > rebuilds, timeout=30, message="the rebuild")
        read = page_store.read_page(user_id=fan.pk, max_score=None, count=100, today="-")
        assert {entry.feed_id for entry in read.entries} == {older.feed_id, newer.feed_id}
    finally:
        replica("SELECT pg_wal_replay_resume()")
