"""Feed flows across processes: a real worker fans out, concurrent first reads rebuild
once, and a stopped Redis degrades the feed instead of failing it."""

import threading

import pytest
from django.db import connection
from django_redis import get_redis_connection

from feed import services, store
from tests.factories import FollowFactory, UserFactory, VideoFactory
from tests.helpers.api import client_for
from tests.helpers.stack import stack, wait_for_replica_to_catch_up, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def feed_ids(client) -> list[str]:
    response = client.get("/api/v1/feed")
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


@pytest.mark.worker
def test_real_worker_fans_a_published_video_out_to_every_follower_once(celery_worker, settings):
    creator = UserFactory()
    fans = UserFactory.create_batch(5)
    for fan in fans:
        FollowFactory(follower=fan, followee=creator)
    outsider = UserFactory()
    for user in [*fans, outsider]:
        services.feed_rebuild(user_id=user.pk)
    video = VideoFactory(owner=creator)
    wait_for_replica_to_catch_up()
    from feed import tasks

    # Delivered twice on purpose: the same end state (each follower has it once).
    tasks.fanout_video.delay(str(video.id))
    tasks.fanout_video.delay(str(video.id))

    def delivered():
        return all(store.feed_size(user_id=fan.pk) == 1 for fan in fans)

    wait_until(delivered, timeout=30, message="fan-out to every follower")
    client = client_for(fans[0])
    assert feed_ids(client) == [str(video.id)]
    assert store.feed_size(user_id=outsider.pk) == 0


def test_twenty_concurrent_first_reads_trigger_one_rebuild():
    creator, fan = UserFactory(), UserFactory()
    FollowFactory(follower=fan, followee=creator)
    videos = [VideoFactory(owner=creator) for _ in range(3)]
    client = client_for(fan)
    token = client._credentials["HTTP_AUTHORIZATION"]
    get_redis_connection("default").flushdb()
    wait_for_replica_to_catch_up()
    barrier = threading.Barrier(20)
    results: list[tuple[int, int]] = []

    def read():
        from rest_framework.test import APIClient

        try:
            reader = APIClient()
            reader.credentials(HTTP_AUTHORIZATION=token)
            barrier.wait(timeout=10)
            response = reader.get("/api/v1/feed")
            results.append((response.status_code, len(response.json()["items"])))
        finally:
            connection.close()

    threads = [threading.Thread(target=read) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert results == [(200, len(videos))] * 20
    assert store.stats()["rebuilds"] == 1


@pytest.mark.slow
def test_redis_stopped_mid_test_gives_degraded_200_and_feeds_rebuild_after():
    creator, fan = UserFactory(), UserFactory()
    FollowFactory(follower=fan, followee=creator)
    videos = [VideoFactory(owner=creator) for _ in range(2)]
    client = client_for(fan)
    wait_for_replica_to_catch_up()
    expected = sorted(str(video.id) for video in videos)
    assert sorted(feed_ids(client)) == expected
    stack("stop", "redis-cache", "--immediate")
    try:
        for _ in range(3):
            response = client.get("/api/v1/feed")
            assert response.status_code == 200, response.content
            assert response["X-Feed-Degraded"] == "redis-unavailable"
            assert sorted(item["id"] for item in response.json()["items"]) == expected
    finally:
        stack("start", "redis-cache")
    response = client.get("/api/v1/feed")
    assert response.status_code == 200
    assert "X-Feed-Degraded" not in response
    assert sorted(item["id"] for item in response.json()["items"]) == expected
    assert store.feed_exists(user_id=fan.pk)  # rebuilt after Redis came back empty
