"""Block and mute: the endpoints, the write paths they close, and every read path that
must forget the other user (profile, videos, comments, lists, search, feed, trending)."""

import pytest
from rest_framework.test import APIClient

from activity.models import Block, Follow, Mute
from activity.visibility import relations
from feed import services as feed_services
from feed import store
from tests.factories import CommentFactory, UserFactory
from tests.helpers.api import assert_error, client_for

pytestmark = pytest.mark.django_db


def feed_ids(client) -> list[str]:
    response = client.get("/api/v1/feed")
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def test_blocking_or_muting_yourself_is_a_400_and_an_unknown_user_a_404():
    me = UserFactory()
    client = client_for(me)
    for relation in ("block", "mute"):
        assert_error(client.put(f"/api/v1/users/{me.username}/{relation}"), 400, f"cannot_{relation}_self")
        assert_error(client.put(f"/api/v1/users/nobody_here/{relation}"), 404)
        assert_error(client.delete(f"/api/v1/users/nobody_here/{relation}"), 404)
        assert_error(APIClient().put(f"/api/v1/users/{me.username}/{relation}"), 401)


def test_block_and_mute_are_idempotent_and_listed(run_on_commit):
    me, them = UserFactory(), UserFactory()
    client = client_for(me)
    for relation, model in (("block", Block), ("mute", Mute)):
        for _ in range(2):
            response = run_on_commit(lambda relation=relation: client.put(f"/api/v1/users/{them.username}/{relation}"))
            assert response.status_code == 200
        assert model.objects.count() == 1
        listed = client.get(f"/api/v1/me/{relation}s").json()
        assert [item["username"] for item in listed["items"]] == [them.username]
        for _ in range(2):
            response = run_on_commit(
                lambda relation=relation: client.delete(f"/api/v1/users/{them.username}/{relation}")
            )
            assert response.status_code == 204
        assert model.objects.count() == 0
        assert client.get(f"/api/v1/me/{relation}s").json()["items"] == []


def test_blocking_removes_follows_both_ways_and_the_blocked_cannot_follow_back(run_on_commit, follows):
    blocker, blocked = UserFactory(), UserFactory()
    follows(blocker, blocked)
    follows(blocked, blocker)
    run_on_commit(lambda: client_for(blocker).put(f"/api/v1/users/{blocked.username}/block"))
    assert not Follow.objects.exists()
    assert_error(client_for(blocked).put(f"/api/v1/users/{blocker.username}/follow"), 404)
    assert_error(client_for(blocker).put(f"/api/v1/users/{blocked.username}/follow"), 400, "user_blocked")
    assert not Follow.objects.exists()


def test_the_blocked_user_sees_the_blocker_as_404_and_cannot_touch_their_videos(run_on_commit, published):
    blocker, blocked = UserFactory(), UserFactory()
    video = published(blocker)
    CommentFactory(video=video, author=blocker)
    run_on_commit(lambda: client_for(blocker).put(f"/api/v1/users/{blocked.username}/block"))
    client = client_for(blocked)
    for method, path, body in [
        ("get", f"/api/v1/users/{blocker.username}", None),
        ("get", f"/api/v1/users/{blocker.username}/videos", None),
        ("get", f"/api/v1/users/{blocker.username}/followers", None),
        ("get", f"/api/v1/users/{blocker.username}/following", None),
        ("get", f"/api/v1/videos/{video.id}", None),
        ("get", f"/api/v1/videos/{video.id}/comments", None),
        ("put", f"/api/v1/videos/{video.id}/like", None),
        ("put", f"/api/v1/videos/{video.id}/favorite", None),
        ("post", f"/api/v1/videos/{video.id}/comments", {"text": "hello"}),
    ]:
        response = getattr(client, method)(path, body, format="json") if body else getattr(client, method)(path)
        assert_error(response, 404)
    # The rest of the world still sees everything.
    other = client_for(UserFactory())
    assert other.get(f"/api/v1/videos/{video.id}").status_code == 200
    assert other.get(f"/api/v1/users/{blocker.username}").status_code == 200


def test_neither_sees_the_other_in_comments_lists_search_and_trending(run_on_commit, published, follows):
    blocker, blocked, host = UserFactory(username="blocker_a"), UserFactory(username="blocked_b"), UserFactory()
    video = published(host)
    CommentFactory(video=video, author=blocked, text="from the blocked")
    CommentFactory(video=video, author=blocker, text="from the blocker")
    follows(blocked, host)
    follows(blocker, host)
    their_video = published(blocked, caption="findme")
    run_on_commit(lambda: client_for(blocker).put(f"/api/v1/users/{blocked.username}/block"))
    feed_services.trending_recompute()
    for viewer, other in ((blocker, blocked), (blocked, blocker)):
        client = client_for(viewer)
        comments = client.get(f"/api/v1/videos/{video.id}/comments").json()["items"]
        assert [c["author"]["username"] for c in comments] == [viewer.username]
        followers = client.get(f"/api/v1/users/{host.username}/followers").json()["items"]
        assert [f["username"] for f in followers] == [viewer.username]
        users = client.get("/api/v1/search", {"q": other.username, "type": "users"}).json()["items"]
        assert other.username not in [u["username"] for u in users]
        trending = client.get("/api/v1/feed/trending")
        assert trending.status_code == 200, trending.content
        trending_ids = [item["id"] for item in trending.json()["items"]]
        assert (str(their_video.id) in trending_ids) == (viewer == blocked)  # own videos stay
    # A third party still sees both.
    comments = client_for(host).get(f"/api/v1/videos/{video.id}/comments").json()["items"]
    assert len(comments) == 2


def test_a_block_takes_each_others_videos_out_of_the_precomputed_feed_at_once(run_on_commit, published, follows):
    fan, creator = UserFactory(), UserFactory()
    follows(fan, creator)
    follows(creator, fan)
    creator_video, fan_video = published(creator), published(fan)
    assert feed_ids(client_for(fan)) == [str(creator_video.id)]
    assert feed_ids(client_for(creator)) == [str(fan_video.id)]
    run_on_commit(lambda: client_for(creator).put(f"/api/v1/users/{fan.username}/block"))
    assert store.feeds_containing(user_ids=[fan.pk], feed_id=creator_video.feed_id) == 0
    assert store.feeds_containing(user_ids=[creator.pk], feed_id=fan_video.feed_id) == 0
    assert str(creator_video.id) not in feed_ids(client_for(fan))


def test_mute_hides_the_muted_users_videos_from_a_warm_feed_and_unmute_brings_them_back(
    run_on_commit, published, follows
):
    fan, creator = UserFactory(), UserFactory()
    follows(fan, creator)
    video = published(creator)
    client = client_for(fan)
    assert feed_ids(client) == [str(video.id)]
    run_on_commit(lambda: client.put(f"/api/v1/users/{creator.username}/mute"))
    assert store.feeds_containing(user_ids=[fan.pk], feed_id=video.feed_id) == 0
    assert str(video.id) not in feed_ids(client)
    assert Follow.objects.filter(follower=fan, followee=creator).exists()  # a mute keeps the follow
    # Published while muted: fan-out skips the muter.
    later = published(creator, minutes_ago=0.5)
    assert store.feeds_containing(user_ids=[fan.pk], feed_id=later.feed_id) == 0
    # The muted user notices nothing.
    muted_client = client_for(creator)
    assert muted_client.get(f"/api/v1/users/{fan.username}").status_code == 200
    assert muted_client.get(f"/api/v1/users/{creator.username}/followers").json()["items"][0]["username"] == (
        fan.username
    )
    run_on_commit(lambda: client.delete(f"/api/v1/users/{creator.username}/mute"))
    assert set(feed_ids(client)) == {str(video.id), str(later.id)}


def test_the_warm_page_drops_a_blocked_creator_still_in_redis(run_on_commit, published, follows):
    """The read-time guard: a block whose feed removal has not run yet still hides them."""
    fan, creator = UserFactory(), UserFactory()
    follows(fan, creator)
    video = published(creator)
    client = client_for(fan)
    assert feed_ids(client) == [str(video.id)]
    Block.objects.create(blocker=fan, blocked=creator)  # no on-commit work: the feed still holds it
    run_on_commit(lambda: relations.relations_refresh(user_ids=[fan.pk]))
    assert store.feeds_containing(user_ids=[fan.pk], feed_id=video.feed_id) == 1
    assert str(video.id) not in feed_ids(client)
