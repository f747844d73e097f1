"""Like storms: concurrent requests make one row per user and an exact count."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.tokens import token_create
from activity.engagement.counters import counter_flush
from activity.models import Like
from tests.factories import UserFactory, VideoFactory
from videos.models import Video

THREADS = 50


def _client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_create(user=user).token}")
    return client


def _storm(clients: list[APIClient], path: str) -> list[int]:
    """PUT ``path`` from every client at once; returns the status codes."""
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []
    lock = threading.Lock()

    def run(client: APIClient) -> None:
        try:
            barrier.wait(timeout=30)
            status = client.put(path).status_code
            with lock:
                statuses.append(status)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses


def _likes_count(video) -> int:
    return Video.objects.using("default").get(pk=video.pk).likes_count


@pytest.mark.django_db(transaction=True)
def test_fifty_users_liking_one_video_at_once_make_fifty_rows_and_count_fifty():
    video = VideoFactory()
    users = UserFactory.create_batch(THREADS)
    statuses = _storm([_client(user) for user in users], f"/api/v1/videos/{video.id}/like")
    assert statuses == [200] * THREADS
    assert Like.objects.using("default").filter(video=video).count() == THREADS
    assert _likes_count(video) == 0  # the request path never touches the video row
    counter_flush()
    assert _likes_count(video) == THREADS


@pytest.mark.django_db(transaction=True)
def test_one_user_liking_one_video_fifty_times_at_once_makes_one_row_and_count_one():
    video = VideoFactory()
    user = UserFactory()
    client = _client(user)
    token = client._credentials["HTTP_AUTHORIZATION"]
    clients = []
    for _ in range(THREADS):
        copy = APIClient()
        copy.credentials(HTTP_AUTHORIZATION=token)
        clients.append(copy)
    statuses = _storm(clients, f"/api/v1/videos/{video.id}/like")
    assert statuses == [200] * THREADS
    assert Like.objects.using("default").filter(video=video, user=user).count() == 1
    counter_flush()
    assert _likes_count(video) == 1
