"""While the primary cannot be reached, a user who keeps trying to write still reads.

The primary is made unreachable for this process only (its connection is pointed at a
port nobody listens on: connection refused, as after a crash), so other test runs on
the shared stack are not disturbed; ``make chaos`` kills the real primary (tests/chaos).
"""

import socket
from contextlib import contextmanager

import pytest
from django.db import connections

from tests.factories import FollowFactory, UserFactory, VideoFactory
from tests.helpers.api import client_for
from tests.helpers.stack import wait_for_replica_to_catch_up
from tiktok import db_router, read_your_writes
from tiktok.keys import WRITE_POSITION_KEY

pytestmark = pytest.mark.django_db(transaction=True)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def primary_unreachable():
    connection = connections["default"]
    saved = connection.settings_dict
    connection.close()
    connection.settings_dict = {**saved, "PORT": str(_closed_port())}
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict = saved
        db_router._down_until.clear()


def test_a_user_whose_writes_fail_while_the_primary_is_down_still_reads_from_the_replica():
    creator, fan = UserFactory(), UserFactory()
    FollowFactory(follower=fan, followee=creator)
    video = VideoFactory(owner=creator)
    client = client_for(fan)
    first = client.post(f"/api/v1/videos/{video.id}/comments", {"text": "before"}, format="json")
    assert first.status_code == 201, first.content
    wait_for_replica_to_catch_up()
    with primary_unreachable():
        for attempt in range(3):
            failed = client.post(f"/api/v1/videos/{video.id}/comments", {"text": f"during {attempt}"}, format="json")
            assert failed.status_code == 503, failed.content
            # The failed write pinned this user to the primary; their reads must not fail.
            comments = client.get(f"/api/v1/videos/{video.id}/comments")
            assert comments.status_code == 200, comments.content
            assert [item["text"] for item in comments.json()["items"]] == ["before"]
            feed = client.get("/api/v1/feed")
            assert feed.status_code == 200, feed.content
            assert [item["id"] for item in feed.json()["items"]] == [str(video.id)]
            assert client.get(f"/api/v1/videos/{video.id}").status_code == 200
    assert client.post(f"/api/v1/videos/{video.id}/comments", {"text": "after"}, format="json").status_code == 201


def test_a_user_whose_last_write_the_replica_has_not_replayed_reads_the_replica_while_the_primary_is_down():
    creator, fan = UserFactory(), UserFactory()
    video = VideoFactory(owner=creator)
    client = client_for(fan)
    wait_for_replica_to_catch_up()
    assert client.post(f"/api/v1/videos/{video.id}/comments", {"text": "mine"}, format="json").status_code == 201
    wait_for_replica_to_catch_up()
    with primary_unreachable():
        # Their pin now asks for a position past anything the replica can know.
        read_your_writes._durable_cache().set(WRITE_POSITION_KEY.format(user_id=fan.pk), f"lsn:{2**62}", timeout=60)
        comments = client.get(f"/api/v1/videos/{video.id}/comments")
        assert comments.status_code == 200, comments.content
        assert [item["text"] for item in comments.json()["items"]] == ["mine"]
