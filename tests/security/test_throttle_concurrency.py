"""Throttles hold under concurrency: 50 parallel writes accept at most the limit."""

import threading
import time

import pytest
import time_machine
from django.db import connection

from tests.factories import UserFactory, VideoFactory
from tests.helpers.api import client_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_fifty_parallel_writes_accept_at_most_the_limit(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "writes": "10/min"},
    }
    user = UserFactory()
    videos = VideoFactory.create_batch(50)
    token = client_for(user)._credentials["HTTP_AUTHORIZATION"]
    barrier = threading.Barrier(50)
    statuses: list[int] = []
    retry_after: list[str] = []

    def like(video):
        from rest_framework.test import APIClient

        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=token)
            barrier.wait(timeout=20)
            response = client.put(f"/api/v1/videos/{video.id}/like")
            statuses.append(response.status_code)
            if response.status_code == 429:
                retry_after.append(response["Retry-After"])
        finally:
            connection.close()

    # Every request inside one fixed one-minute window: the clock stands still at its start.
    window_start = (int(time.time()) // 60 + 1) * 60
    with time_machine.travel(window_start + 1, tick=False):
        threads = [threading.Thread(target=like, args=(video,)) for video in videos]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert len(statuses) == 50
    assert statuses.count(200) == 10
    assert statuses.count(429) == 40
    assert all(int(value) >= 1 for value in retry_after)
