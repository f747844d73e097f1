"""A bounded mixed load (feed reads, likes, unlikes, follows, unfollows, comments, views)
with a real worker, then a consistency check: counters equal exact recounts after the
flush, and every built feed holds exactly the published videos of the creators its owner
follows (follow/unfollow races settled). Uploads and their objects are covered by
tests/videos (no orphaned rows or objects after every failure path).

``SOAK_SECONDS`` (default 30) and ``SOAK_THREADS`` (default 4) bound it.
"""

import os
import random
import threading
import time
from collections import Counter

import pytest
from django.db import connection

from feed import page_store, store
from tests.factories import FollowFactory, UserFactory, VideoFactory
from tests.helpers.api import client_for
from tests.helpers.stack import REPO, WorkerProcess, wait_for_replica_to_catch_up, wait_until

pytestmark = [pytest.mark.chaos, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SOAK_SECONDS = float(os.environ.get("SOAK_SECONDS", "30"))
SOAK_THREADS = int(os.environ.get("SOAK_THREADS", "4"))


def test_mixed_load_then_everything_is_consistent(tmp_path, settings):
    from activity.engagement import counters
    from activity.models import Comment, Follow, Like
    from feed import selectors as feed_selectors
    from tiktok import outbox
    from tiktok.celery import app
    from videos.models import Video

    users = UserFactory.create_batch(12)
    creators = users[:4]
    for user in users:
        for creator in random.Random(user.pk).sample(creators, 2):
            if creator != user:
                FollowFactory(follower=user, followee=creator)
    for creator in creators:
        for _ in range(3):
            VideoFactory(owner=creator)
    counters.counter_recount()  # the factories wrote rows, not counters: start exact
    wait_for_replica_to_catch_up()
    tokens = {user.pk: client_for(user)._credentials["HTTP_AUTHORIZATION"] for user in users}
    app.conf.task_always_eager = False
    worker = WorkerProcess(REPO / "test-artifacts" / f"soak-{tmp_path.name}.log", concurrency=2)
    worker.start()
    statuses: Counter = Counter()
    failures: list[str] = []
    deadline = time.monotonic() + SOAK_SECONDS

    def run(seed: int) -> None:
        from rest_framework.test import APIClient

        rng = random.Random(seed)
        clients = {}
        try:
            while time.monotonic() < deadline:
                user = rng.choice(users)
                client = clients.setdefault(user.pk, APIClient())
                client.credentials(HTTP_AUTHORIZATION=tokens[user.pk])
                videos = list(Video.objects.filter(status="ready").values_list("id", flat=True)[:50])
                video_id = rng.choice(videos)
                creator = rng.choice(creators)
                action = rng.choice(["feed", "feed", "feed", "like", "unlike", "follow", "unfollow", "comment", "view"])
                if action == "feed":
                    response = client.get("/api/v1/feed")
                elif action == "like":
                    response = client.put(f"/api/v1/videos/{video_id}/like")
                elif action == "unlike":
                    response = client.delete(f"/api/v1/videos/{video_id}/like")
                elif action == "follow":
                    response = client.put(f"/api/v1/users/{creator.username}/follow")
                elif action == "unfollow":
                    response = client.delete(f"/api/v1/users/{creator.username}/follow")
                elif action == "comment":
                    response = client.post(f"/api/v1/videos/{video_id}/comments", {"text": "soak"}, format="json")
                else:
                    response = client.post(f"/api/v1/videos/{video_id}/view", {"watched_ms": 900}, format="json")
                statuses[(action, response.status_code)] += 1
                if response.status_code >= 500 or (response.status_code >= 400 and action != "follow"):
                    failures.append(f"{action} {response.status_code} {response.content[:200]!r}")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(seed,)) for seed in range(SOAK_THREADS)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=SOAK_SECONDS + 120)

        # Drain: the outbox is empty, the queues are empty, then flush the counters.
        def drained() -> bool:
            with app.connection_for_write() as conn:
                sizes = [conn.default_channel.client.llen(queue) for queue in ("default", "fanout", "media")]
            return outbox.pending_count() == 0 and not any(sizes)

        wait_until(drained, timeout=60, message="queues to drain")
        time.sleep(2)  # the last tasks finish
    finally:
        worker.stop()
        app.conf.task_always_eager = True

    requests_made = sum(statuses.values())
    print(f"soak: {requests_made} requests in {SOAK_SECONDS:.0f}s: {dict(statuses)}")
    assert requests_made > 50
    assert not failures, failures[:10]
    assert not [key for key in statuses if key[1] >= 500]

    counters.counter_flush()
    # Counters equal the exact counts.
    for video in Video.objects.all():
        assert video.likes_count == Like.objects.filter(video=video).count(), video.id
        assert video.comments_count == Comment.objects.filter(video=video, state="visible").count(), video.id
    for user in users:
        user.refresh_from_db()
        assert user.followers_count == Follow.objects.filter(followee=user).count(), user.username
        assert user.following_count == Follow.objects.filter(follower=user).count(), user.username
    # Every built feed holds exactly the videos of the creators its owner follows.
    for user in users:
        if not store.feed_exists(user_id=user.pk):
            continue
        read = page_store.read_page(user_id=user.pk, max_score=None, count=1000, today="-")
        in_feed = {entry.feed_id for entry in read.entries}
        followed = set(Follow.objects.filter(follower=user).values_list("followee_id", flat=True))
        public = feed_selectors.public_videos().filter(owner_id__in=followed)
        expected = set(public.values_list("feed_id", flat=True))
        assert in_feed == expected, user.username
