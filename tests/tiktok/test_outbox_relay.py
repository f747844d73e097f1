"""The outbox relay: committed outbox rows are published off the request path, woken by
the write's NOTIFY; a broker it cannot reach loses nothing; relays that run at once never
send a row twice; a worker's relay brings a follow to the feed and its notification to
the inbox within about a second."""

import threading
import time

import pytest
from django.db import connections, transaction

from activity.models import Notification, NotificationKind
from feed import services as feed_services
from feed import store
from tests.factories import FollowFactory, UserFactory, VideoFactory
from tests.helpers.api import client_for
from tests.helpers.broker import queued_messages
from tests.helpers.stack import REPO, WorkerProcess, wait_until
from tiktok import outbox
from tiktok.models import OutboxMessage

pytestmark = pytest.mark.django_db(transaction=True)

UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connection refused


@pytest.fixture
def start_relay():
    """Start ``outbox.Relay`` threads in this process; each is stopped at the end."""
    relays = []

    def start(**kwargs) -> outbox.Relay:
        relay = outbox.Relay(**kwargs)
        relay.start()
        relays.append(relay)
        return relay

    yield start
    for relay in relays:
        relay.stop()


def test_a_rolled_back_write_leaves_nothing_to_relay(real_broker):
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox.enqueue_on_commit("feed.tasks.merge_creator_into_feed", 1, 2)
        raise RuntimeError("the write fails after recording its task")
    assert OutboxMessage.objects.count() == 0
    assert outbox.relay_batch(limit=10) == 0
    assert queued_messages() == []


def test_a_relay_publishes_a_committed_follow_at_once_woken_by_its_notification(real_broker, start_relay, settings):
    settings.OUTBOX_RELAY_WAIT_SECONDS = 30  # no polling within the test: only the NOTIFY can wake it
    fan, creator = UserFactory(), UserFactory()
    client = client_for(fan)
    start_relay()
    time.sleep(0.5)  # listening
    started = time.monotonic()
    assert client.put(f"/api/v1/users/{creator.username}/follow").status_code == 200
    wait_until(lambda: len(queued_messages()) == 2, timeout=5, message="the follow's tasks")
    assert time.monotonic() - started < 2
    assert queued_messages() == [
        ("activity.tasks.notifications_sync", [[["follow", fan.pk, creator.pk]]]),
        ("feed.tasks.merge_creator_into_feed", [fan.pk, creator.pk]),
    ]
    assert outbox.pending_count() == 0


def test_a_relay_that_cannot_reach_the_broker_keeps_the_rows_and_they_are_published_later(
    real_broker, start_relay, settings
):
    settings.OUTBOX_RELAY_WAIT_SECONDS = 0.2
    fan, creator = UserFactory(), UserFactory()
    video = VideoFactory(owner=creator)
    client = client_for(fan)
    cut_off = start_relay(broker_url=UNREACHABLE_BROKER)
    assert client.put(f"/api/v1/users/{creator.username}/follow").status_code == 200
    assert client.put(f"/api/v1/videos/{video.id}/like").status_code == 200

    def tried_twice() -> bool:
        return OutboxMessage.objects.filter(attempts__gte=2).count() == 3

    wait_until(tried_twice, timeout=20, message="two failed publishes")
    assert queued_messages() == []
    assert all("127.0.0.1:1" in error for error in OutboxMessage.objects.values_list("last_error", flat=True))
    cut_off.stop()

    start_relay()  # the broker is reachable again
    wait_until(lambda: outbox.pending_count() == 0, timeout=10, message="the kept rows to be published")
    assert queued_messages() == [
        ("activity.tasks.notifications_sync", [[["follow", fan.pk, creator.pk], ["like", fan.pk, str(video.id)]]]),
        ("feed.tasks.merge_creator_into_feed", [fan.pk, creator.pk]),
    ]


def test_a_task_this_process_does_not_know_is_published_by_name_and_holds_nothing_up(real_broker):
    """A newer release's web may record a task an older worker does not have yet."""
    outbox.enqueue_all_on_commit(
        [
            outbox.Task("feed.tasks.from_a_newer_release", (7,)),
            outbox.Task("feed.tasks.merge_creator_into_feed", (1, 2)),
        ]
    )
    assert outbox.relay_batch(limit=10) == 2
    assert queued_messages() == [
        ("feed.tasks.from_a_newer_release", [7]),
        ("feed.tasks.merge_creator_into_feed", [1, 2]),
    ]
    assert outbox.pending_count() == 0


def test_two_relays_claiming_at_once_send_every_row_exactly_once(real_broker):
    rows = 300
    for index in range(rows):
        outbox.enqueue_on_commit("feed.tasks.merge_creator_into_feed", index, index)
    sent = []

    def relay() -> None:
        try:
            while count := outbox.relay_batch(limit=7):
                sent.append(count)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=relay) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(sent) == rows
    assert sorted(args[0] for _, args in queued_messages()) == list(range(rows))
    assert outbox.pending_count() == 0
    assert outbox.in_flight_count() == rows  # until a worker runs them


def test_a_workers_relay_brings_follows_to_the_feed_and_a_burst_of_likes_to_the_inbox_exactly(celery_worker):
    creator = UserFactory()
    video = VideoFactory(owner=creator)
    fans = UserFactory.create_batch(5)
    clients = [client_for(fan) for fan in fans]
    for fan in fans:
        feed_services.feed_rebuild(user_id=fan.pk)  # empty feeds that the follow merges into

    for client in clients:
        assert client.put(f"/api/v1/users/{creator.username}/follow").status_code == 200
        assert client.put(f"/api/v1/videos/{video.id}/like").status_code == 200
    # One fan takes the like back at once, another likes twice: neither may leave a trace.
    assert clients[0].delete(f"/api/v1/videos/{video.id}/like").status_code == 204
    assert clients[1].put(f"/api/v1/videos/{video.id}/like").status_code == 200
    written = time.monotonic()

    def merged() -> bool:
        return store.feeds_containing(user_ids=[fan.pk for fan in fans], feed_id=video.feed_id) == len(fans)

    wait_until(merged, timeout=10, message="every follow merged into the feed")
    assert time.monotonic() - written < 2  # the relay's hop and the merge task, well within a second here

    def inbox() -> dict[str, int]:
        items = Notification.objects.filter(recipient=creator)
        return {item.kind: item.actor_count for item in items}

    wait_until(lambda: inbox() == {NotificationKind.FOLLOW: 5, NotificationKind.LIKE: 4}, timeout=10, message="inbox")
    time.sleep(1)  # any duplicate or late task would land by now
    assert inbox() == {NotificationKind.FOLLOW: 5, NotificationKind.LIKE: 4}
    assert Notification.objects.filter(recipient=creator).count() == 2
    assert OutboxMessage.objects.count() == 0


def lose_the_next_message() -> None:
    """Take the next message off the queue as a worker does (``BRPOP``), and drop it: a
    worker killed before it recorded the message as unacknowledged loses it so."""
    import redis
    from django.conf import settings as django_settings

    assert redis.Redis.from_url(django_settings.CELERY_BROKER_URL).rpop("default") is not None


def test_a_message_the_broker_lost_after_handing_it_over_is_sent_again_and_run_once_by_a_worker(
    real_broker, settings, tmp_path
):
    settings.OUTBOX_RESEND_AFTER_SECONDS = 1
    creator, fan = UserFactory(), UserFactory()
    video = VideoFactory(owner=creator)
    feed_services.feed_rebuild(user_id=fan.pk)  # built before the follow: only the merge brings the video
    FollowFactory(follower=fan, followee=creator)
    outbox.enqueue_on_commit("feed.tasks.merge_creator_into_feed", fan.pk, creator.pk)
    assert outbox.relay_batch(limit=10) == 1
    lose_the_next_message()
    assert outbox.relay_batch(limit=10) == 0  # not before the resend delay
    wait_until(lambda: outbox.relay_batch(limit=10) == 1, timeout=10, message="the resend")
    assert OutboxMessage.objects.get().sends == 2

    worker = WorkerProcess(REPO / "test-artifacts" / f"outbox-resend-{tmp_path.name}.log", concurrency=1)
    worker.start()
    try:
        wait_until(lambda: OutboxMessage.objects.count() == 0, timeout=30, message="the worker to finish the task")
    finally:
        worker.stop()
    assert store.feeds_containing(user_ids=[fan.pk], feed_id=video.feed_id) == 1


def test_a_task_no_worker_finishes_is_sent_at_most_the_configured_number_of_times(real_broker, settings):
    settings.OUTBOX_RESEND_AFTER_SECONDS = 0
    settings.OUTBOX_MAX_SENDS = 3
    outbox.enqueue_on_commit("feed.tasks.merge_creator_into_feed", 1, 2)
    sent = [outbox.relay_batch(limit=10) for _ in range(5)]
    assert sent == [1, 1, 1, 0, 0]
    assert queued_messages() == [("feed.tasks.merge_creator_into_feed", [1, 2])] * 3
    kept = OutboxMessage.objects.get()  # given up on, kept for an operator to see
    assert kept.sends == 3 and kept.sent_at is not None
    assert (outbox.pending_count(), outbox.in_flight_count()) == (0, 1)
