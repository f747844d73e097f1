"""The personal feed: fan-out, read-time merge of big creators, follow/unfollow,
removal, stable cursors, rebuilds, the SQL continuation past the cap, seen items and
trending. Real Redis and Postgres; tasks run inline (the worker is covered in
tests/integration)."""

import pytest
from django.utils import timezone
from django_redis import get_redis_connection

from feed import services, store
from tests.factories import UserFactory, VideoFactory
from tests.helpers.api import client_for
from tests.helpers.feed import follow, publish
from tiktok.outbox import enqueue_on_commit

pytestmark = pytest.mark.django_db


def feed_ids(client, **params) -> list[str]:
    response = client.get("/api/v1/feed", params)
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def scroll(client, limit: int, max_pages: int = 50) -> list[str]:
    seen, cursor = [], None
    for _ in range(max_pages):
        params = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        body = client.get("/api/v1/feed", params).json()
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("feed did not end")


def test_upload_by_followed_creator_appears_in_followers_feeds_only(run_on_commit):
    creator, fan, stranger = UserFactory(), UserFactory(), UserFactory()
    follow(run_on_commit, fan, creator)
    fan_client, stranger_client = client_for(fan), client_for(stranger)
    assert feed_ids(fan_client) == []  # builds the (empty) feed
    video = publish(run_on_commit, creator)
    assert store.feed_size(user_id=fan.pk) == 1
    assert feed_ids(fan_client) == [str(video.id)]
    services.trending_recompute()  # as beat does every TRENDING_INTERVAL_SECONDS
    stranger_body = stranger_client.get("/api/v1/feed").json()
    assert stranger_body["source"] == "trending"
    assert str(video.id) in [item["id"] for item in stranger_body["items"]]  # trending, not following
    assert not store.feed_exists(user_id=stranger.pk) or store.feed_size(user_id=stranger.pk) == 0


def test_feed_items_are_full_video_cards_with_viewer_flags(run_on_commit):
    creator, fan = UserFactory(display_name="Cree"), UserFactory()
    follow(run_on_commit, fan, creator)
    video = publish(run_on_commit, creator, caption="hello")
    item = client_for(fan).get("/api/v1/feed").json()["items"][0]
    assert item["id"] == str(video.id)
    assert item["caption"] == "hello"
    assert item["creator"] == {"username": creator.username, "display_name": "Cree", "avatar_url": None}
    assert item["hls_url"] and item["poster_url"]
    assert item["viewer"] == {"liked": False, "favorited": False, "following": True}
    assert set(item["counts"]) >= {"likes", "comments"}


def test_big_creator_videos_appear_through_the_read_time_merge(run_on_commit, settings):
    settings.BIG_CREATOR_FOLLOWERS = 3
    star, small, fan = UserFactory(), UserFactory(), UserFactory()
    for other in (UserFactory(), UserFactory()):
        follow(run_on_commit, other, star)
    follow(run_on_commit, fan, star)
    follow(run_on_commit, fan, small)
    client = client_for(fan)
    feed_ids(client)
    star_video = publish(run_on_commit, star, minutes_ago=1)
    small_video = publish(run_on_commit, small, minutes_ago=2)
    # Not fanned out: the star's video is not in the fan's own sorted set...
    members = {int(m) for m in get_redis_connection("default").zrange(store.FEED_KEY.format(user_id=fan.pk), 0, -1)}
    assert star_video.feed_id not in members
    assert small_video.feed_id in members
    # ...but merged into the page, in publish order.
    assert feed_ids(client) == [str(star_video.id), str(small_video.id)]


def test_follow_backfills_and_unfollow_removes(run_on_commit):
    creator, fan = UserFactory(), UserFactory()
    old = [publish(run_on_commit, creator, minutes_ago=10 + i) for i in range(3)]
    other = UserFactory()
    follow(run_on_commit, fan, other)
    kept = publish(run_on_commit, other, minutes_ago=30)
    client = client_for(fan)
    assert feed_ids(client) == [str(kept.id)]
    follow(run_on_commit, fan, creator)
    assert feed_ids(client) == [str(v.id) for v in old] + [str(kept.id)]

    def unfollow():
        from activity.models import Follow

        Follow.objects.filter(follower=fan, followee=creator).delete()
        enqueue_on_commit("feed.tasks.remove_creator_from_feed", fan.pk, creator.pk)

    run_on_commit(unfollow)
    assert feed_ids(client) == [str(kept.id)]
    assert store.feed_size(user_id=fan.pk) == 1


def test_hidden_and_deleted_videos_vanish_from_the_feed_at_once(run_on_commit, django_capture_on_commit_callbacks):
    from videos.services import video_delete, video_set_moderation

    creator, fan = UserFactory(), UserFactory()
    follow(run_on_commit, fan, creator)
    client = client_for(fan)
    feed_ids(client)
    hidden, deleted, kept = (publish(run_on_commit, creator, minutes_ago=i) for i in range(3))
    assert len(feed_ids(client)) == 3
    with django_capture_on_commit_callbacks(execute=False) as purges:
        video_set_moderation(video_id=hidden.id, moderation="hidden", final=False)
        video_delete(video_id=deleted.id, owner=creator)
    # The background purge has not run yet: the read-time filter drops them already.
    assert store.feed_size(user_id=fan.pk) == 3
    assert feed_ids(client) == [str(kept.id)]
    for callback in purges:
        callback()
    assert store.feed_size(user_id=fan.pk) == 1


def test_cursor_paging_over_a_feed_receiving_inserts_neither_repeats_nor_skips(run_on_commit):
    creator, fan = UserFactory(), UserFactory()
    follow(run_on_commit, fan, creator)
    client = client_for(fan)
    original = [publish(run_on_commit, creator, minutes_ago=100 - i) for i in range(9)]
    shown, cursor = [], None
    for _page in range(3):
        body = client.get("/api/v1/feed", {"limit": 3} | ({"cursor": cursor} if cursor else {})).json()
        shown += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        publish(run_on_commit, creator, minutes_ago=0)  # a new video lands while scrolling
    assert shown == [str(v.id) for v in reversed(original)]
    assert len(set(shown)) == 9


def test_videos_with_the_same_publish_time_page_without_loss(run_on_commit):
    creator, fan = UserFactory(), UserFactory()
    follow(run_on_commit, fan, creator)
    when = timezone.now()
    videos = run_on_commit(lambda: [VideoFactory(owner=creator, published_at=when) for _ in range(7)])
    client = client_for(fan)
    assert sorted(scroll(client, limit=2)) == sorted(str(v.id) for v in videos)


def test_flushed_redis_means_the_feed_is_rebuilt_on_the_next_read(run_on_commit):
    creator, fan = UserFactory(), UserFactory()
    follow(run_on_commit, fan, creator)
    videos = [publish(run_on_commit, creator, minutes_ago=i) for i in range(3)]
    client = client_for(fan)
    assert feed_ids(client) == [str(v.id) for v in videos]
    get_redis_connection("default").flushdb()  # this run's database: others may share the server
    assert not store.feed_exists(user_id=fan.pk)
    assert feed_ids(client) == [str(v.id) for v in videos]
    assert store.feed_exists(user_id=fan.pk)
    assert store.stats()["rebuilds"] == 1


def test_scrolling_past_the_cap_continues_into_older_videos_from_sql(run_on_commit, settings):
    settings.FEED_MAX_ITEMS = 5
    creator, fan = UserFactory(), UserFactory()
    follow(run_on_commit, fan, creator)
    videos = [publish(run_on_commit, creator, minutes_ago=i) for i in range(12)]
    client = client_for(fan)
    assert scroll(client, limit=4) == [str(v.id) for v in videos]
    assert store.feed_size(user_id=fan.pk) == 5


def test_watched_videos_are_skipped_on_later_reads(run_on_commit):
    creator, fan = UserFactory(), UserFactory()
    follow(run_on_commit, fan, creator)
    first, second, third = (publish(run_on_commit, creator, minutes_ago=i) for i in range(3))
    client = client_for(fan)
    assert feed_ids(client) == [str(first.id), str(second.id), str(third.id)]
    services.video_seen(viewer_id=fan.pk, video_id=second.id)
    assert feed_ids(client) == [str(first.id), str(third.id)]


def test_seen_memory_per_user_is_bounded(settings):
    settings.FEED_SEEN_MAX = 10
    for feed_id in range(1, 26):
        store.mark_seen(user_id=1, feed_id=feed_id)
    assert get_redis_connection("default").zcard(store.FEED_SEEN_KEY.format(user_id=1)) == 10


def test_following_nobody_gives_the_trending_feed_with_rank_parts(run_on_commit):
    from activity.models import Like

    creator, lonely = UserFactory(), UserFactory()
    liked = publish(run_on_commit, creator, minutes_ago=30)
    plain = publish(run_on_commit, creator, minutes_ago=10)
    for _ in range(3):
        Like.objects.create(user=UserFactory(), video=liked)
    services.trending_recompute()
    body = client_for(lonely).get("/api/v1/feed").json()
    assert body["source"] == "trending"
    assert [item["id"] for item in body["items"]] == [str(liked.id), str(plain.id)]
    assert body["items"][0]["rank"]["likes"] == 3
    assert set(body["items"][0]["rank"]) >= {"score", "likes", "completion", "age_hours"}


def test_trending_endpoint_pages_stably_and_allows_anonymous_readers(api_client, run_on_commit):
    creator = UserFactory()
    videos = [publish(run_on_commit, creator, minutes_ago=i * 60) for i in range(5)]
    services.trending_recompute()
    first = api_client.get("/api/v1/feed/trending", {"limit": 2}).json()
    services.trending_recompute()  # a new version while the client pages
    rest = []
    cursor = first["next_cursor"]
    while cursor:
        body = api_client.get("/api/v1/feed/trending", {"limit": 2, "cursor": cursor}).json()
        rest += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
    ids = [item["id"] for item in first["items"]] + rest
    assert sorted(ids) == sorted(str(v.id) for v in videos)
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 51}, {"limit": "x"}, {"cursor": "%%%"}, {"cursor": "e30"}])
def test_bad_paging_parameters_are_a_400(auth_client, params):
    response = auth_client.get("/api/v1/feed", params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] in {"invalid", "invalid_cursor"}


def test_feed_requires_authentication(api_client):
    assert api_client.get("/api/v1/feed").status_code == 401


def test_a_feed_page_runs_a_bounded_number_of_queries(run_on_commit, django_assert_max_num_queries):
    creator, fan = UserFactory(), UserFactory()
    follow(run_on_commit, fan, creator)
    for i in range(20):
        publish(run_on_commit, creator, minutes_ago=i)
    client = client_for(fan)
    feed_ids(client)
    with django_assert_max_num_queries(8):
        assert len(feed_ids(client, limit=20)) == 20


def test_a_cursor_signed_before_feed_ids_continues_where_it_was(run_on_commit):
    """Cursors issued before the deploy carry the video's UUID as member: mapped to its feed
    id; one naming a video that is gone is a 400 invalid_cursor, never a 500."""
    from feed.selectors import score_of
    from tiktok import cursors

    creator, fan = UserFactory(), UserFactory()
    follow(run_on_commit, fan, creator)
    videos = [publish(run_on_commit, creator, minutes_ago=i) for i in range(4)]
    client = client_for(fan)
    old_cursor = cursors.sign({"k": "f", "s": score_of(videos[1].published_at), "m": str(videos[1].id)})

    assert feed_ids(client, cursor=old_cursor) == [str(videos[2].id), str(videos[3].id)]
    gone = cursors.sign({"k": "f", "s": score_of(videos[1].published_at), "m": "8b4c2b1e-0000-4000-8000-000000000000"})
    response = client.get("/api/v1/feed", {"cursor": gone})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_cursor"


def test_a_suspended_creators_videos_leave_built_feeds_and_return_on_reinstatement(run_on_commit):
    from moderation.services import user_reinstate, user_suspend

    creator, other, fan = UserFactory(), UserFactory(), UserFactory()
    follow(run_on_commit, fan, creator)
    follow(run_on_commit, fan, other)
    everything = [str(publish(run_on_commit, owner, minutes_ago=i).id) for i, owner in enumerate([creator, other])]
    client = client_for(fan)
    assert feed_ids(client) == everything

    run_on_commit(lambda: user_suspend(user=creator, actor=None, reason="spam"))
    assert store.feed_size(user_id=fan.pk) == 1
    assert feed_ids(client) == everything[1:]

    run_on_commit(lambda: user_reinstate(user=creator, actor=None, reason="appeal upheld"))
    assert store.feed_size(user_id=fan.pk) == 2
    assert feed_ids(client) == everything
