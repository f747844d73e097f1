"""Feeds for tests: publishing and following as the app does, feeds read both ways, what a page costs."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import timedelta

from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from feed import pages
from tests.factories import FollowFactory, VideoFactory
from tiktok.outbox import enqueue_on_commit
from videos.models import FEED_ID_SEQUENCE
from videos.services import video_published


def publish(run_on_commit, owner, *, minutes_ago: float = 0, **fields):
    published_at = timezone.now() - timedelta(minutes=minutes_ago)

    def create():
        video = VideoFactory(owner=owner, published_at=published_at, **fields)
        video_published(video_id=video.id)
        return video

    return run_on_commit(create)


def follow(run_on_commit, follower, followee):
    def create():
        FollowFactory(follower=follower, followee=followee)
        followee.followers_count += 1
        followee.save(update_fields=["followers_count"])
        enqueue_on_commit("feed.tasks.merge_creator_into_feed", follower.pk, followee.pk)

    run_on_commit(create)


def queries_during(action) -> tuple[object, int]:
    """Run ``action``; return its result and the number of SQL queries on every database."""
    with ExitStack() as stack:
        contexts = [stack.enter_context(CaptureQueriesContext(connection)) for connection in connections.all()]
        result = action()
    return result, sum(len(context.captured_queries) for context in contexts)


def redis_round_trips_during(action, monkeypatch) -> dict[int, int]:
    """Run ``action``; return the commands sent (pipelines and script calls count once) per
    Redis server port, as this process's client sends them."""
    from redis.connection import Connection

    sent: dict[int, int] = {}
    original = Connection.send_packed_command

    def counting(self, command, check_health=True):
        sent[self.port] = sent.get(self.port, 0) + 1
        return original(self, command, check_health)

    monkeypatch.setattr(Connection, "send_packed_command", counting)
    action()
    monkeypatch.undo()
    return sent


def precomputed_feed(client, *, limit: int) -> list[str]:
    shown, cursor = [], None
    for _ in range(200):
        params = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        response = client.get("/api/v1/feed", params)
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["source"] == "following"
        shown += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return shown
    raise AssertionError("the feed never ended")


def sql_feed(viewer, *, limit: int) -> list[str]:
    shown, cursor = [], None
    while True:
        page = pages.pull_feed_page(viewer=viewer, cursor=cursor, limit=limit)
        shown += [item["id"] for item in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return shown


def next_two_feed_ids_cross_a_power_of_ten() -> None:
    """Make the next two feed ids 10^k - 1 and 10^k: as text ("99" > "100") they sort the
    other way round, so any place that orders members as strings breaks the test below."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT nextval('{FEED_ID_SEQUENCE}')")
        (current,) = cursor.fetchone()
        cursor.execute(f"SELECT setval('{FEED_ID_SEQUENCE}', %s)", [10 ** len(str(current + 1)) - 2])
