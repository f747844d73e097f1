"""Follow and unfollow, follower and following lists."""

from unittest import mock

import pytest

from activity.engagement.counters import counter_flush, pending_deltas
from activity.models import Follow
from tests.helpers.api import assert_error

pytestmark = pytest.mark.django_db


def test_follow_is_idempotent_one_row_one_counter_change_one_feed_merge(auth_client, user, make_user, run_on_commit):
    creator = make_user()
    with mock.patch("feed.tasks.merge_creator_into_feed.apply_async") as follow_created, run_on_commit():
        first = auth_client.put(f"/api/v1/users/{creator.username}/follow")
        second = auth_client.put(f"/api/v1/users/{creator.username}/follow")
    assert first.status_code == second.status_code == 200
    assert first.json() == {"following": True, "counts": {"followers": 0, "following": 0}}
    assert Follow.objects.filter(follower=user, followee=creator).count() == 1
    assert follow_created.call_count == 1 and follow_created.call_args.kwargs["args"] == [user.pk, creator.pk]
    assert pending_deltas(entity="user", object_ids=[creator.pk, user.pk]) == {
        str(creator.pk): {"followers": 1},
        str(user.pk): {"following": 1},
    }
    counter_flush()
    creator.refresh_from_db()
    user.refresh_from_db()
    assert (creator.followers_count, user.following_count) == (1, 1)


def test_unfollow_is_idempotent_and_removes_the_follow_once(auth_client, user, make_user, run_on_commit):
    creator = make_user()
    with run_on_commit():
        auth_client.put(f"/api/v1/users/{creator.username}/follow")
    counter_flush()
    with mock.patch("feed.tasks.remove_creator_from_feed.apply_async") as follow_removed, run_on_commit():
        first = auth_client.delete(f"/api/v1/users/{creator.username}/follow")
        second = auth_client.delete(f"/api/v1/users/{creator.username}/follow")
    assert first.status_code == second.status_code == 204
    assert not Follow.objects.exists()
    assert follow_removed.call_count == 1 and follow_removed.call_args.kwargs["args"] == [user.pk, creator.pk]
    counter_flush()
    creator.refresh_from_db()
    assert creator.followers_count == 0


def test_unfollow_of_someone_not_followed_is_a_204_without_counter_change(auth_client, make_user, run_on_commit):
    creator = make_user()
    with mock.patch("feed.tasks.remove_creator_from_feed.apply_async") as follow_removed, run_on_commit():
        response = auth_client.delete(f"/api/v1/users/{creator.username}/follow")
    assert response.status_code == 204
    follow_removed.assert_not_called()
    assert pending_deltas(entity="user", object_ids=[creator.pk]) == {}


def test_following_yourself_is_a_400(auth_client, user):
    assert_error(auth_client.put(f"/api/v1/users/{user.username}/follow"), 400, "cannot_follow_self")
    assert not Follow.objects.exists()


def test_following_an_unknown_or_suspended_user_is_a_404(auth_client, make_user):
    assert_error(auth_client.put("/api/v1/users/nobody-here/follow"), 404, "not_found")
    assert_error(auth_client.delete("/api/v1/users/nobody-here/follow"), 404, "not_found")
    from django.utils import timezone

    suspended = make_user(suspended_at=timezone.now())
    assert_error(auth_client.put(f"/api/v1/users/{suspended.username}/follow"), 404, "not_found")


def test_following_requires_authentication(api_client, make_user):
    assert_error(api_client.put(f"/api/v1/users/{make_user().username}/follow"), 401)


def test_followers_list_newest_first_with_the_viewers_following_flag(auth_client, user, make_user):
    creator = make_user()
    fans = [make_user() for _ in range(3)]
    for fan in fans:
        Follow.objects.create(follower=fan, followee=creator)
    Follow.objects.create(follower=user, followee=fans[0])

    body = auth_client.get(f"/api/v1/users/{creator.username}/followers").json()
    assert [item["username"] for item in body["items"]] == [fan.username for fan in reversed(fans)]
    assert {item["username"]: item["following"] for item in body["items"]} == {
        fans[0].username: True,
        fans[1].username: False,
        fans[2].username: False,
    }
    assert set(body["items"][0]) == {"username", "display_name", "followed_at", "following"}
    assert body["next_cursor"] is None


def test_following_list_is_public_with_a_null_flag_for_anonymous_readers(api_client, make_user):
    fan = make_user()
    creators = [make_user() for _ in range(2)]
    for creator in creators:
        Follow.objects.create(follower=fan, followee=creator)
    body = api_client.get(f"/api/v1/users/{fan.username}/following").json()
    assert [item["username"] for item in body["items"]] == [creators[1].username, creators[0].username]
    assert all(item["following"] is None for item in body["items"])


def test_followers_pages_stay_stable_while_new_follows_arrive(auth_client, make_user):
    creator = make_user()
    early = [make_user() for _ in range(3)]
    for fan in early:
        Follow.objects.create(follower=fan, followee=creator)
    page1 = auth_client.get(f"/api/v1/users/{creator.username}/followers?limit=2").json()
    for _ in range(2):
        Follow.objects.create(follower=make_user(), followee=creator)
    page2 = auth_client.get(f"/api/v1/users/{creator.username}/followers?limit=2&cursor={page1['next_cursor']}").json()
    seen = [item["username"] for item in page1["items"] + page2["items"]]
    assert seen == [fan.username for fan in reversed(early)]
    assert page2["next_cursor"] is None


def test_followers_list_runs_a_fixed_number_of_queries(auth_client, make_user, django_assert_max_num_queries):
    creator = make_user()
    for _ in range(2):
        Follow.objects.create(follower=make_user(), followee=creator)
    auth_client.get(f"/api/v1/users/{creator.username}/followers")  # caches the viewer's blocks and mutes
    with django_assert_max_num_queries(4):
        small = auth_client.get(f"/api/v1/users/{creator.username}/followers?limit=50")
    for _ in range(20):
        Follow.objects.create(follower=make_user(), followee=creator)
    with django_assert_max_num_queries(4):
        large = auth_client.get(f"/api/v1/users/{creator.username}/followers?limit=50")
    assert len(small.json()["items"]) == 2
    assert len(large.json()["items"]) == 22


def test_bad_cursor_and_limit_use_the_error_shape(auth_client, user):
    assert_error(auth_client.get(f"/api/v1/users/{user.username}/followers?cursor=zzz"), 400, "invalid_cursor")
    assert_error(auth_client.get(f"/api/v1/users/{user.username}/followers?limit=0"), 400, "invalid")
