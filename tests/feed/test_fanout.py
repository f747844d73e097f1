"""Fan-out batches: a video reaches every built follower feed once, never a follower who
blocked, was blocked by or muted the creator (even when a stale follower list still names
them), nothing once the video was taken down, and each batch costs one query however
many followers it carries (the 10^5-follower bench depends on it: BENCHMARKS.md)."""

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from activity.models import Block, Mute
from feed import services, store
from tests.factories import FollowFactory, UserFactory, VideoFactory
from tiktok import db_router
from videos.models import Moderation, Video

pytestmark = pytest.mark.django_db


def followers_with_built_feeds(creator, count: int) -> list[int]:
    fans = UserFactory.create_batch(count)
    for fan in fans:
        FollowFactory(follower=fan, followee=creator)
        services.feed_rebuild(user_id=fan.pk)
    return [fan.pk for fan in fans]


def holding(user_ids: list[int], video) -> list[int]:
    return [user_id for user_id in user_ids if store.feeds_containing(user_ids=[user_id], feed_id=video.feed_id)]


def test_a_batch_never_delivers_to_followers_who_block_are_blocked_by_or_mute_the_creator():
    creator = UserFactory()
    outside_the_batch = UserFactory()
    Block.objects.create(blocker=outside_the_batch, blocked=creator)
    fans = followers_with_built_feeds(creator, 6)
    video = VideoFactory(owner=creator)
    # The follows are still listed, as on a replica that has not replayed the unfollows yet.
    Block.objects.create(blocker_id=fans[0], blocked=creator)
    Block.objects.create(blocker=creator, blocked_id=fans[2])
    Mute.objects.create(muter_id=fans[5], muted=creator)

    assert services.fanout_batch(video_id=str(video.id), follower_ids=fans) == 3
    assert holding(fans, video) == [fans[1], fans[3], fans[4]]


def test_a_batch_still_queued_when_the_video_is_taken_down_delivers_nothing():
    creator = UserFactory()
    fans = followers_with_built_feeds(creator, 3)
    video = VideoFactory(owner=creator)
    Video.objects.filter(id=video.id).update(moderation=Moderation.REMOVED)

    assert services.fanout_batch(video_id=str(video.id), follower_ids=fans) == 0
    assert holding(fans, video) == []


def test_a_batch_over_several_script_calls_reaches_each_built_feed_once_and_a_retry_changes_nothing(monkeypatch):
    monkeypatch.setattr(store, "FANOUT_FEEDS_PER_SCRIPT", 2)
    creator = UserFactory()
    built = followers_with_built_feeds(creator, 5)
    never_read = UserFactory()  # no built feed: rebuilt from the database when they come back
    FollowFactory(follower=never_read, followee=creator)
    video = VideoFactory(owner=creator)
    batch = sorted([*built, never_read.pk])

    assert services.fanout_batch(video_id=str(video.id), follower_ids=batch) == 5
    sizes = [store.feed_size(user_id=user_id) for user_id in built]
    assert services.fanout_batch(video_id=str(video.id), follower_ids=batch) == 5  # redelivered
    assert holding(built, video) == built
    assert [store.feed_size(user_id=user_id) for user_id in built] == sizes == [1] * 5
    assert not store.feed_exists(user_id=never_read.pk)


def test_a_batch_costs_one_query_on_the_primary_and_none_on_the_replica_whatever_its_size(
    django_assert_num_queries,
):
    creator = UserFactory()
    video = VideoFactory(owner=creator)
    first = UserFactory().pk
    batch = list(range(first, first + 5000))  # ids that are not users: nothing to deliver to

    with CaptureQueriesContext(connections[db_router.replica_aliases()[0]]) as replica:
        with django_assert_num_queries(1):
            assert services.fanout_batch(video_id=str(video.id), follower_ids=batch) == 0
    assert replica.captured_queries == []
