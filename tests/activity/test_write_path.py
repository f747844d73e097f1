"""The like/follow write path: what one ``PUT`` costs (SQL statements, Redis round trips)
and the guarantees it keeps at that cost (outbox, read-your-writes, replica lag).

The budgets are the numbers reached for issue #15 (part 4); a change that adds a query
or a round trip to the request shows here first.
"""

import base64
import json

import pytest
import redis
from django.conf import settings
from django.db import connections
from django.test.utils import CaptureQueriesContext

from activity.engagement.counters import pending_deltas
from activity.models import Block, Follow, Like
from tests.factories import UserFactory, VideoFactory
from tests.helpers.api import client_for
from tests.helpers.stack import replica_paused, wait_for_replica_to_catch_up
from tiktok import outbox

pytestmark = pytest.mark.django_db(transaction=True)

# A new like: the checked insert with its outbox row (one prepared statement) and the
# primary's WAL position (read-your-writes). The outbox relay publishes the task, in
# another process: the request neither publishes nor deletes.
NEW_LIKE_SQL = 2
# A new follow: the same, after the followee is looked up by name.
NEW_FOLLOW_SQL = 3
# Authentication, throttle, the counter deltas, the viewer flag, the write position.
NEW_LIKE_REDIS = 5
NEW_FOLLOW_REDIS = 5
# A repeat changes nothing: the checked insert (plus the followee lookup); authentication
# and the throttle.
REPEAT_LIKE_SQL = 1
REPEAT_FOLLOW_SQL = 2
REPEAT_REDIS = 2


class RedisRoundTrips:
    """Counts what every Redis client of this process sends (cache, durable, broker): one
    ``send_packed_command`` is one round trip, a pipeline included."""

    def __init__(self, monkeypatch):
        self.count = 0
        send = redis.connection.Connection.send_packed_command

        def counted(connection, command, check_health=True):
            self.count += 1
            return send(connection, command, check_health)

        monkeypatch.setattr(redis.connection.Connection, "send_packed_command", counted)


def measure(monkeypatch, request):
    """(response, SQL statements, Redis round trips) of one request."""
    with monkeypatch.context() as patch:
        trips = RedisRoundTrips(patch)
        with CaptureQueriesContext(connections["default"]) as queries:
            response = request()
    return response, [query["sql"] for query in queries.captured_queries], trips.count


@pytest.fixture
def warm_client(real_broker):
    """A client whose token is cached and whose Redis and broker connections are open, so
    a measured request pays only for itself."""
    user = UserFactory()
    client = client_for(user)
    assert client.put(f"/api/v1/videos/{VideoFactory().id}/like").status_code == 200
    client.user = user
    return client


def test_a_like_costs_two_statements_and_five_redis_round_trips_and_a_repeat_one_and_two(warm_client, monkeypatch):
    video = VideoFactory()
    response, sql, trips = measure(monkeypatch, lambda: warm_client.put(f"/api/v1/videos/{video.id}/like"))
    assert response.status_code == 200 and response.json() == {"liked": True}
    assert (len(sql), trips) == (NEW_LIKE_SQL, NEW_LIKE_REDIS), sql
    assert Like.objects.filter(user=warm_client.user, video=video).count() == 1
    assert pending_deltas(entity="video", object_ids=[video.id]) == {str(video.id): {"likes": 1}}

    response, sql, trips = measure(monkeypatch, lambda: warm_client.put(f"/api/v1/videos/{video.id}/like"))
    assert response.status_code == 200 and response.json() == {"liked": True}
    assert (len(sql), trips) == (REPEAT_LIKE_SQL, REPEAT_REDIS), sql
    assert pending_deltas(entity="video", object_ids=[video.id]) == {str(video.id): {"likes": 1}}


def test_a_follow_costs_three_statements_and_five_redis_round_trips_and_a_repeat_two_and_two(warm_client, monkeypatch):
    creator = UserFactory()
    path = f"/api/v1/users/{creator.username}/follow"
    response, sql, trips = measure(monkeypatch, lambda: warm_client.put(path))
    assert response.status_code == 200 and response.json()["following"] is True
    assert (len(sql), trips) == (NEW_FOLLOW_SQL, NEW_FOLLOW_REDIS), sql
    assert pending_deltas(entity="user", object_ids=[creator.pk, warm_client.user.pk]) == {
        str(creator.pk): {"followers": 1},
        str(warm_client.user.pk): {"following": 1},
    }

    response, sql, trips = measure(monkeypatch, lambda: warm_client.put(path))
    assert response.status_code == 200
    assert (len(sql), trips) == (REPEAT_FOLLOW_SQL, REPEAT_REDIS), sql
    assert Follow.objects.filter(follower=warm_client.user, followee=creator).count() == 1


def queued_messages() -> list[tuple[str, list]]:
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    messages = [json.loads(raw) for raw in broker.lrange("default", 0, -1)]
    return sorted(
        (message["headers"]["task"], json.loads(base64.b64decode(message["body"]))[0]) for message in messages
    )


def test_the_request_publishes_nothing_and_one_relay_batch_sends_a_task_per_change(warm_client):
    outbox.relay_batch(limit=100)  # the fixture's warm-up like
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete("default")
    video, creator = VideoFactory(), UserFactory()
    user = warm_client.user
    warm_client.put(f"/api/v1/videos/{video.id}/like")
    warm_client.put(f"/api/v1/users/{creator.username}/follow")
    assert queued_messages() == []
    assert outbox.pending_count() == 3  # committed, waiting for the relay

    assert outbox.relay_batch(limit=100) == 3  # rows; sent as two messages
    assert outbox.pending_count() == 0
    # The follow's feed merge is its own task; the like's and the follow's notifications
    # travel together in the batch's one notification task.
    assert queued_messages() == [
        ("activity.tasks.notifications_sync", [[["like", user.pk, str(video.id)], ["follow", user.pk, creator.pk]]]),
        ("feed.tasks.merge_creator_into_feed", [user.pk, creator.pk]),
    ]


def test_a_repeat_or_a_refusal_records_nothing_for_the_relay(warm_client):
    outbox.relay_batch(limit=100)
    video, creator = VideoFactory(), UserFactory()
    warm_client.put(f"/api/v1/videos/{video.id}/like")
    warm_client.put(f"/api/v1/users/{creator.username}/follow")
    assert outbox.relay_batch(limit=100) == 3

    warm_client.put(f"/api/v1/videos/{video.id}/like")
    warm_client.put(f"/api/v1/users/{creator.username}/follow")
    blocked_video = VideoFactory()
    Block.objects.create(blocker=blocked_video.owner, blocked=warm_client.user)
    assert warm_client.put(f"/api/v1/videos/{blocked_video.id}/like").status_code == 404
    assert warm_client.put(f"/api/v1/users/{blocked_video.owner.username}/follow").status_code == 404
    assert outbox.pending_count() == 0
    assert not Like.objects.filter(video=blocked_video).exists()
    assert pending_deltas(entity="video", object_ids=[blocked_video.id]) == {}


@pytest.mark.parametrize(
    ("relation", "listing", "flag"), [("like", "likes", "liked"), ("favorite", "favorites", "favorited")]
)
def test_a_video_published_while_the_replica_lags_can_be_liked_and_shows_in_my_list_at_once(
    real_broker, relation, listing, flag
):
    client = client_for(UserFactory())
    wait_for_replica_to_catch_up()  # the login is replayed: only what follows lags
    with replica_paused():
        video = VideoFactory()  # on the primary only
        response = client.put(f"/api/v1/videos/{video.id}/{relation}")
        assert response.status_code == 200, response.content
        assert response.json() == {flag: True}
        # The write's position pins this user's reads to the primary until the replica has it.
        mine = client.get(f"/api/v1/me/{listing}")
    assert mine.status_code == 200
    assert [item["id"] for item in mine.json()["items"]] == [str(video.id)]


def prepared_like_statements() -> list[tuple[int, int, int]]:
    """(backend pid, generic plans, custom plans) of this session's prepared like statements."""
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT pg_backend_pid(), generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%INSERT INTO activity_like %"],
        )
        return cursor.fetchall()


def test_the_like_statement_is_prepared_once_per_connection_and_again_on_a_new_one(warm_client):
    for _ in range(8):
        assert warm_client.put(f"/api/v1/videos/{VideoFactory().id}/like").status_code == 200
    # One prepared statement for nine likes (the fixture's and these); PostgreSQL plans the
    # first five with their values, then runs its one generic plan without planning.
    [(first_backend, generic, custom)] = prepared_like_statements()
    assert (generic, custom) == (4, 5)

    # The server ends the session (a failover, a restart); Django opens a new connection
    # (its health check, or ``CONN_MAX_AGE``): psycopg's cache belongs to the old one, so the
    # statement is prepared again on the new session instead of executing a missing name.
    with connections.create_connection("default").cursor() as other:
        other.execute("SELECT pg_terminate_backend(%s)", [first_backend])
    connections["default"].close()
    video = VideoFactory()
    assert warm_client.put(f"/api/v1/videos/{video.id}/like").status_code == 200
    assert Like.objects.filter(user=warm_client.user, video=video).exists()
    [(backend, generic, custom)] = prepared_like_statements()
    assert backend != first_backend and (generic, custom) == (0, 1)
