"""The warm feed page: one Redis script call returns the entries, the cards as JSON bytes
and the viewer's flags; the response is spliced from those bytes, with no SQL. Flags stay
exact through likes, follows, a lost flags hash and a rebuild racing a write; a takedown
still vanishes at once."""

import pytest
from django_redis import get_redis_connection

from activity.engagement import flags
from activity.engagement import services as engagement_services
from activity.graph import services as graph_services
from feed import pages, store
from tests.factories import UserFactory
from tests.helpers.api import client_for
from tests.helpers.feed import follow, publish, queries_during, redis_round_trips_during
from videos.models import Moderation
from videos.services import video_set_moderation

pytestmark = pytest.mark.django_db


def feed_items(client) -> list[dict]:
    response = client.get("/api/v1/feed")
    assert response.status_code == 200, response.content
    return response.json()["items"]


def test_a_warm_page_is_spliced_from_redis_bytes_without_sql(run_on_commit):
    creator, fan = UserFactory(), UserFactory()
    follow(run_on_commit, fan, creator)
    videos = [publish(run_on_commit, creator, minutes_ago=minutes) for minutes in (1, 2, 3)]
    pages.feed_page(viewer=fan, cursor=None, limit=2)  # builds the feed, caches cards and flags

    warm, queries = queries_during(lambda: pages.feed_page(viewer=fan, cursor=None, limit=2))

    assert queries == 0
    assert len(warm.items) == 2
    assert all(isinstance(item, bytes) for item in warm.items)
    body = client_for(fan).get("/api/v1/feed").json()
    assert [item["id"] for item in body["items"]] == [str(video.id) for video in videos]
    assert body["items"][0]["viewer"] == {"liked": False, "favorited": False, "following": True}


def test_spliced_and_serialised_pages_have_the_same_json(run_on_commit):
    creator, fan = UserFactory(), UserFactory()
    follow(run_on_commit, fan, creator)
    publish(run_on_commit, creator, minutes_ago=1, caption='café ☕ "quoted"')
    client = client_for(fan)
    first = client.get("/api/v1/feed")  # cards built from SQL (dicts)
    second = client.get("/api/v1/feed")  # cards from Redis bytes
    assert first.json() == second.json()
    assert second["Content-Type"] == first["Content-Type"] == "application/json"
    assert second["X-Feed-Source"] == "following"


def test_likes_and_follows_show_at_once_on_warm_pages(run_on_commit):
    creator, other, fan = UserFactory(), UserFactory(), UserFactory()
    follow(run_on_commit, fan, creator)
    video = publish(run_on_commit, creator, minutes_ago=1)
    client = client_for(fan)
    assert feed_items(client)[0]["viewer"] == {"liked": False, "favorited": False, "following": True}

    assert run_on_commit(lambda: client.put(f"/api/v1/videos/{video.id}/like")).status_code in (200, 201, 204)
    assert run_on_commit(lambda: client.put(f"/api/v1/videos/{video.id}/favorite")).status_code in (200, 201, 204)
    assert feed_items(client)[0]["viewer"] == {"liked": True, "favorited": True, "following": True}

    assert run_on_commit(lambda: client.delete(f"/api/v1/videos/{video.id}/like")).status_code in (200, 204)
    assert feed_items(client)[0]["viewer"] == {"liked": False, "favorited": True, "following": True}
    assert get_redis_connection("default").hexists(flags.flags_key(fan.pk), "built")

    # Follow state comes from the same hash (a follow of someone else leaves this card alone).
    run_on_commit(lambda: graph_services.follow_create(follower=fan, followee=other))
    assert feed_items(client)[0]["viewer"]["following"] is True


def test_a_lost_flags_hash_is_rebuilt_and_never_shows_a_wrong_flag(run_on_commit):
    creator, fan = UserFactory(), UserFactory()
    follow(run_on_commit, fan, creator)
    video = publish(run_on_commit, creator, minutes_ago=1)
    client = client_for(fan)
    feed_items(client)
    run_on_commit(lambda: engagement_services.like_create(user=fan, video_id=video.id))
    get_redis_connection("default").delete(flags.flags_key(fan.pk))  # evicted

    assert feed_items(client)[0]["viewer"]["liked"] is True  # from SQL, then rebuilt
    assert get_redis_connection("default").hexists(flags.flags_key(fan.pk), "built")
    assert feed_items(client)[0]["viewer"]["liked"] is True  # from the rebuilt hash


def test_a_rebuild_that_raced_a_write_is_not_marked_built(run_on_commit):
    creator, fan = UserFactory(), UserFactory()
    video = publish(run_on_commit, creator, minutes_ago=1)
    key = flags.flags_key(fan.pk)
    flags._run(flags.REBUILD_START, keys=[key], args=["token", 60])  # a rebuild read SQL: no like yet
    run_on_commit(lambda: engagement_services.like_create(user=fan, video_id=video.id))  # a like commits

    finished = flags._run(flags.REBUILD_ADD, keys=[key], args=["token", 3600, "1"])  # the rebuild, without it

    assert finished == 0
    assert not get_redis_connection("default").hexists(key, "built")
    assert flags.flags_rebuild(user_id=fan.pk) is True
    assert get_redis_connection("default").hexists(key, flags.LIKED + str(video.feed_id))


def test_a_takedown_vanishes_from_a_warm_page_at_once(run_on_commit):
    creator, fan = UserFactory(), UserFactory()
    follow(run_on_commit, fan, creator)
    kept = publish(run_on_commit, creator, minutes_ago=2)
    taken_down = publish(run_on_commit, creator, minutes_ago=1)
    client = client_for(fan)
    assert [item["id"] for item in feed_items(client)] == [str(taken_down.id), str(kept.id)]
    feed_items(client)  # warm: both cards now come from Redis bytes

    run_on_commit(lambda: video_set_moderation(video_id=taken_down.id, moderation=Moderation.REMOVED, final=True))

    assert [item["id"] for item in feed_items(client)] == [str(kept.id)]


def test_a_warm_authenticated_page_costs_two_redis_round_trips(run_on_commit, monkeypatch):
    """The token lookup (durable Redis: token, account state and write position together)
    and the page script (cache: entries, cards, flags, hidden users): nothing else."""
    if store.is_cluster():
        pytest.skip("on Redis Cluster a page reads by slot in four steps (docs/operations.md)")
    creator, fan = UserFactory(), UserFactory()
    follow(run_on_commit, fan, creator)
    publish(run_on_commit, creator, minutes_ago=1)
    client = client_for(fan)
    assert len(feed_items(client)) == 1  # builds the feed, caches the cards, flags and hidden set
    assert len(feed_items(client)) == 1

    sent = redis_round_trips_during(lambda: feed_items(client), monkeypatch)

    cache_port = get_redis_connection("default").connection_pool.connection_kwargs["port"]
    assert sent.get(cache_port) == 1, sent
    assert sum(sent.values()) == 2, sent
