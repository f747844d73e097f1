"""The warm For You page: one Redis script call after authentication returns the page of the
precomputed list (seen videos and hidden creators skipped), the cards as JSON bytes and the
viewer's flags; the response is spliced from those bytes with each card's ``rank``, no SQL.
Cursors keep paging the version they started on; a missing list is built once."""

import pytest
from django_redis import get_redis_connection

from activity.graph import services as graph_services
from activity.visibility import relations
from discovery import for_you
from discovery import store as for_you_store
from discovery.for_you import ForYouCursor
from feed import store
from tests.factories import UserFactory, VideoFactory
from tests.helpers.api import client_for
from tests.helpers.feed import queries_during, redis_round_trips_during

pytestmark = pytest.mark.django_db


def for_you_body(client, **params) -> dict:
    response = client.get("/api/v1/feed/for-you", params)
    assert response.status_code == 200, response.content
    return response.json()


def ids(body: dict) -> list[str]:
    return [card["id"] for card in body["items"]]


def fresh_videos(count: int) -> list:
    """Videos a new viewer's list holds (fresh, few views: exploration), each by its own creator."""
    return [VideoFactory(views_count=0) for _ in range(count)]


def test_a_warm_page_is_spliced_from_redis_bytes_without_sql():
    fresh_videos(4)
    viewer = UserFactory()
    for_you.for_you_page(viewer=viewer, cursor=None, limit=3)  # builds the list, caches cards, flags, hidden

    warm, queries = queries_during(lambda: for_you.for_you_page(viewer=viewer, cursor=None, limit=3))

    assert queries == 0
    assert len(warm.items) == 3
    assert all(isinstance(item, bytes) for item in warm.items)
    card = for_you_body(client_for(viewer), limit=3)["items"][0]
    assert card["viewer"] == {"liked": False, "favorited": False, "following": False}
    assert "new: few views yet" in card["rank"]["reasons"]
    assert isinstance(card["rank"]["score"], float)


def test_a_warm_authenticated_page_costs_two_redis_round_trips(monkeypatch):
    """The token lookup (durable Redis) and the page script (cache): nothing else."""
    if store.is_cluster():
        pytest.skip("on Redis Cluster the cards live in other slots: one more call reads them")
    fresh_videos(4)
    client = client_for(UserFactory())
    for_you_body(client)  # builds the list, caches the cards, flags and hidden set
    for_you_body(client)

    sent = redis_round_trips_during(lambda: for_you_body(client), monkeypatch)

    cache_port = get_redis_connection("default").connection_pool.connection_kwargs["port"]
    assert sent.get(cache_port) == 1, sent
    assert sum(sent.values()) == 2, sent


def test_spliced_and_serialised_pages_have_the_same_json():
    VideoFactory(views_count=0, caption='café ☕ "quoted"')
    fresh_videos(2)
    client = client_for(UserFactory())

    first = client.get("/api/v1/feed/for-you")  # cards built from SQL (dicts)
    second = client.get("/api/v1/feed/for-you")  # cards from Redis bytes

    assert first.json() == second.json()
    assert len(second.json()["items"]) == 3
    assert second["Content-Type"] == first["Content-Type"] == "application/json"
    assert second["X-Feed-Source"] == "for_you"


def test_seen_videos_and_muted_creators_leave_a_warm_page_without_sql(run_on_commit):
    watched, muted_video, kept = fresh_videos(3)
    viewer = UserFactory()
    client = client_for(viewer)
    assert set(ids(for_you_body(client))) == {str(watched.id), str(muted_video.id), str(kept.id)}

    response = client.post(f"/api/v1/videos/{watched.id}/view", {"watched_ms": 9000}, format="json")
    assert response.status_code == 202
    run_on_commit(lambda: graph_services.mute_create(muter=viewer, muted=muted_video.owner))

    page, queries = queries_during(lambda: for_you.for_you_page(viewer=viewer, cursor=None, limit=10))

    assert queries == 0
    assert ids(for_you_body(client)) == [str(kept.id)]
    assert len(page.items) == 1


def test_an_evicted_hidden_users_set_still_hides_a_muted_creator(run_on_commit):
    muted_video, kept = fresh_videos(2)
    viewer = UserFactory()
    client = client_for(viewer)
    run_on_commit(lambda: graph_services.mute_create(muter=viewer, muted=muted_video.owner))
    assert ids(for_you_body(client)) == [str(kept.id)]
    get_redis_connection("default").delete(relations.hidden_users_key(viewer.pk))  # evicted

    assert ids(for_you_body(client)) == [str(kept.id)]  # read from SQL, then cached again
    assert get_redis_connection("default").exists(relations.hidden_users_key(viewer.pk))


def test_a_like_shows_at_once_on_a_warm_page(run_on_commit):
    (video,) = fresh_videos(1)
    viewer = UserFactory()
    client = client_for(viewer)
    assert for_you_body(client)["items"][0]["viewer"]["liked"] is False

    assert run_on_commit(lambda: client.put(f"/api/v1/videos/{video.id}/like")).status_code in (200, 201, 204)

    # The list is not rebuilt yet (the engagement tick does that): the card is still there.
    assert for_you_body(client)["items"][0]["viewer"] == {"liked": True, "favorited": False, "following": False}


def test_a_cursor_keeps_paging_its_version_after_a_rebuild():
    fresh_videos(6)
    viewer = UserFactory()
    client = client_for(viewer)
    first = for_you_body(client, limit=2)
    newcomer = VideoFactory(views_count=0)
    for_you.for_you_rebuild(user_id=viewer.pk)  # a new version, holding the newcomer

    rest = for_you_body(client, limit=10, cursor=first["next_cursor"])

    paged = ids(first) + ids(rest)
    assert len(paged) == len(set(paged)) == 6
    assert str(newcomer.id) not in paged
    assert rest["next_cursor"] is None
    assert str(newcomer.id) in ids(for_you_body(client, limit=10))  # a new first page: the new version


def test_a_cursor_whose_version_expired_continues_on_the_current_list():
    fresh_videos(4)
    viewer = UserFactory()
    client = client_for(viewer)
    first = for_you_body(client, limit=2)
    expired = ForYouCursor.decode(first["next_cursor"]).version
    for_you.for_you_rebuild(user_id=viewer.pk)
    get_redis_connection("default").delete(for_you_store.FOR_YOU_LIST_KEY.format(user_id=viewer.pk, version=expired))

    continued = for_you_body(client, limit=2, cursor=first["next_cursor"])

    assert ids(continued) == ids(for_you_body(client, limit=2))
    assert ForYouCursor.decode(continued["next_cursor"]).version != expired


def test_a_missing_list_is_built_on_read_and_a_reader_waiting_on_the_lock_gets_sql(settings):
    fresh_videos(3)
    viewer, waiting = UserFactory(), UserFactory()
    settings.FEED_REBUILD_WAIT_SECONDS = 0.2
    assert for_you_store.acquire_build_lock(user_id=waiting.pk, seconds=30)  # another reader builds it

    served = for_you_body(client_for(waiting))

    assert len(served["items"]) == 3  # computed in SQL meanwhile, not a 500 or an empty page
    assert for_you_store.current_version(user_id=waiting.pk) is None
    assert len(for_you_body(client_for(viewer))["items"]) == 3
    assert for_you_store.current_version(user_id=viewer.pk) is not None
