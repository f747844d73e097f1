"""A real worker writes the notifications after the API commits: likes from several
users become one item, a redelivered task changes nothing, an unlike withdraws."""

import pytest

from activity.models import Notification, NotificationActor
from tests.factories import UserFactory, VideoFactory
from tests.helpers.api import client_for
from tests.helpers.stack import wait_until
from tiktok.outbox import enqueue


def actor_count(owner) -> int | None:
    item = Notification.objects.using("default").filter(recipient=owner, kind="like").first()
    return item.actor_count if item else None


@pytest.mark.worker
def test_a_real_worker_writes_aggregated_notifications_idempotently(celery_worker):
    video = VideoFactory()
    owner, fans = video.owner, UserFactory.create_batch(3)
    for fan in fans:
        assert client_for(fan).put(f"/api/v1/videos/{video.id}/like").status_code == 200
    wait_until(lambda: actor_count(owner) == 3, timeout=30, message="three likes in one item")
    for _ in range(3):  # as if the broker redelivered the task
        enqueue("activity.tasks.notification_sync_like", fans[0].pk, str(video.id))
    assert client_for(fans[1]).delete(f"/api/v1/videos/{video.id}/like").status_code == 204
    wait_until(lambda: actor_count(owner) == 2, timeout=30, message="the unlike withdrawn")
    body = client_for(owner).get("/api/v1/notifications").json()
    assert [(item["kind"], item["actor_count"]) for item in body["items"]] == [("like", 2)]
    assert Notification.objects.count() == 1
    assert NotificationActor.objects.count() == 2
    assert "notification_sync_like" in celery_worker.log_path.read_text()
