"""Broker down while a request commits a write that must enqueue work: the write
succeeds, the task waits in the outbox, and it is published once the broker is back."""

import pytest
from django.conf import settings
from django_redis import get_redis_connection

from tests.factories import UserFactory
from tests.helpers.api import client_for
from tests.helpers.stack import stack
from tiktok import outbox
from tiktok.models import OutboxMessage

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def real_broker():
    """Publish through the real broker (no worker: messages stay queued)."""
    from tiktok.celery import app

    app.conf.task_always_eager = False
    yield app
    app.conf.task_always_eager = True


def queued_task_names() -> list[str]:
    import json

    from redis import Redis

    broker = Redis.from_url(settings.CELERY_BROKER_URL)
    return [json.loads(raw)["headers"]["task"] for raw in broker.lrange("default", 0, -1)]


@pytest.mark.slow
def test_follow_while_the_broker_is_down_is_kept_and_published_later(real_broker):
    from activity.models import Follow

    fan, creator = UserFactory(), UserFactory()
    client = client_for(fan)
    real_broker.connection_for_write().default_channel.queue_purge("default")
    stack("stop", "redis-broker", "--immediate")
    try:
        response = client.put(f"/api/v1/users/{creator.username}/follow")
        assert response.status_code == 200, response.content
        assert Follow.objects.filter(follower=fan, followee=creator).exists()
        assert OutboxMessage.objects.filter(task_name="feed.tasks.merge_creator_into_feed").count() == 1
        assert outbox.drain() == 0  # still down: nothing lost, nothing sent
    finally:
        stack("start", "redis-broker")
    get_redis_connection("durable").ping()
    assert outbox.drain() == 2  # the feed merge and the follow's notification
    assert outbox.pending_count() == 0
    assert {"feed.tasks.merge_creator_into_feed", "activity.tasks.notifications_sync"} <= set(queued_task_names())


def test_a_published_message_is_not_published_again_while_its_task_may_still_run(real_broker):
    fan, creator = UserFactory(), UserFactory()
    response = client_for(fan).put(f"/api/v1/users/{creator.username}/follow")
    assert response.status_code == 200
    assert OutboxMessage.objects.count() == 2  # the request publishes nothing: the relay does
    assert outbox.drain() == 2
    assert outbox.drain() == 0  # sent: kept until a worker finishes it, resent only if none does
    assert (outbox.pending_count(), outbox.in_flight_count()) == (0, 2)
    assert "feed.tasks.merge_creator_into_feed" in queued_task_names()
