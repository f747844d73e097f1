"""One notification task per outbox relay batch (``activity.tasks.notifications_sync``):
the inbox ends exactly as the relations are, whatever the batch repeats, withdraws or
redelivers, and an event that fails is retried without the others."""

import pytest
from celery.exceptions import Retry

from activity.models import Follow, Like, Notification, NotificationKind
from activity.notifications import tasks
from tests.factories import UserFactory, VideoFactory
from tests.helpers.api import client_for

pytestmark = pytest.mark.django_db


def inbox(user) -> dict[str, int]:
    return {item.kind: item.actor_count for item in Notification.objects.filter(recipient=user)}


def test_a_batch_that_names_relations_twice_or_after_they_ended_gives_one_exact_item_per_kind():
    creator = UserFactory()
    video = VideoFactory(owner=creator)
    fans = UserFactory.create_batch(3)
    for fan in fans:
        Like.objects.create(user=fan, video=video)
        Follow.objects.create(follower=fan, followee=creator)
    gone = UserFactory()  # liked and unliked before the batch ran: named, but no relation
    events = [
        *(["like", fan.pk, str(video.id)] for fan in fans),
        *(["follow", fan.pk, creator.pk] for fan in fans),
        ["like", fans[0].pk, str(video.id)],  # liked, unliked, liked again: named twice
        ["like", gone.pk, str(video.id)],
    ]
    tasks.notifications_sync.delay(events)
    assert inbox(creator) == {NotificationKind.LIKE: 3, NotificationKind.FOLLOW: 3}

    tasks.notifications_sync.delay(events)  # the broker delivers the batch again
    assert inbox(creator) == {NotificationKind.LIKE: 3, NotificationKind.FOLLOW: 3}
    assert Notification.objects.filter(recipient=creator).count() == 2
    body = client_for(creator).get("/api/v1/notifications").json()
    assert sorted(item["actor_count"] for item in body["items"]) == [3, 3]


def test_a_failing_event_is_retried_alone_and_the_rest_of_the_batch_is_written():
    creator = UserFactory()
    video = VideoFactory(owner=creator)
    fan = UserFactory()
    Like.objects.create(user=fan, video=video)
    broken = ["like", fan.pk, "not-a-video-id"]
    with pytest.raises(Retry) as retry:
        tasks.notifications_sync.apply_async(([["like", fan.pk, str(video.id)], broken],), throw=True).get()
    assert inbox(creator) == {NotificationKind.LIKE: 1}
    assert retry.value.sig.args == ([broken],)
