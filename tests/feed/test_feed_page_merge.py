"""The warm page of a user who follows many big creators: the page script merges the
creators' sets lazily (a few rows of each, more only as the walk needs them), so the page
stays exact (order, ties by feed id as numbers, the floor, seen videos) while reading about
one page of rows, and a warm page still costs no SQL."""

from datetime import timedelta

import orjson
import pytest
from django.utils import timezone

from feed import pages, services, store
from tests.factories import FollowFactory, UserFactory, VideoFactory
from tests.helpers.api import client_for
from tests.helpers.feed import next_two_feed_ids_cross_a_power_of_ten, precomputed_feed, queries_during, sql_feed

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_caps(settings):
    settings.FEED_MAX_ITEMS = 40
    settings.FEED_BIG_CREATOR_KEEP = 12
    settings.BIG_CREATOR_FOLLOWERS = 3


def big_creator():
    return UserFactory(followers_count=10)  # above BIG_CREATOR_FOLLOWERS


def warm_ids(viewer, *, limit: int, pages_wanted: int) -> list[str]:
    """The ids of the first pages read warm (read once before, which caches their cards),
    asserting that none of them ran SQL."""
    cursor = None
    for _ in range(pages_wanted):
        cursor = pages.feed_page(viewer=viewer, cursor=cursor, limit=limit).next_cursor
    shown, cursor = [], None
    for _ in range(pages_wanted):
        page, queries = queries_during(lambda: pages.feed_page(viewer=viewer, cursor=cursor, limit=limit))  # noqa: B023
        assert queries == 0
        shown += [orjson.loads(item)["id"] for item in page.items]
        cursor = page.next_cursor
    return shown


def test_a_page_of_many_big_creators_interleaves_them_exactly_as_sql(small_caps):
    now = timezone.now()
    viewer, friend = UserFactory(), UserFactory()
    creators = [big_creator() for _ in range(6)]
    for creator in [*creators, friend]:
        FollowFactory(follower=viewer, followee=creator)
    # One creator posts far more often than the rest: the walk must read past its first
    # rows (more than one batch) while the others contribute one row each now and then.
    for index in range(30):
        VideoFactory(owner=creators[0], published_at=now - timedelta(minutes=2 * index + 1))
    for number, creator in enumerate(creators[1:], start=1):
        for index in range(8):
            VideoFactory(owner=creator, published_at=now - timedelta(minutes=7 * index + number * 3))
    for index in range(10):
        VideoFactory(owner=friend, published_at=now - timedelta(minutes=11 * index + 5))
    services.feed_rebuild(user_id=viewer.pk)
    expected = sql_feed(viewer, limit=10)

    for limit in (1, 3, 10):
        assert precomputed_feed(client_for(viewer), limit=limit) == expected
    # Above the creators' floors (their sets keep 12), every page comes from Redis alone.
    assert warm_ids(viewer, limit=4, pages_wanted=3) == expected[:12]


def test_a_tie_inside_one_big_creators_set_is_walked_by_feed_id_as_numbers(small_caps):
    """Redis orders a tie by member as text ("999" before "1000"); the page, by number. The
    tie straddles the first rows read from the set, so the walk must read on to order it."""
    now = timezone.now().replace(microsecond=0)
    viewer, creator = UserFactory(), big_creator()
    FollowFactory(follower=viewer, followee=creator)
    for index in range(1, 9):
        if index == 4:
            next_two_feed_ids_cross_a_power_of_ten()
        published = now - timedelta(minutes=4) if index in (4, 5) else now - timedelta(minutes=index)
        VideoFactory(owner=creator, published_at=published)
    services.feed_rebuild(user_id=viewer.pk)
    expected = sql_feed(viewer, limit=10)
    assert len(expected) == 8

    for limit in (1, 2, 3):
        assert warm_ids(viewer, limit=limit, pages_wanted=8 // limit) == expected[: 8 // limit * limit]
    assert precomputed_feed(client_for(viewer), limit=2) == expected


def test_seen_videos_of_big_creators_are_skipped_and_the_page_still_fills(small_caps):
    now = timezone.now()
    viewer = UserFactory()
    creators = [big_creator() for _ in range(3)]
    for creator in creators:
        FollowFactory(follower=viewer, followee=creator)
    videos = [
        VideoFactory(owner=creators[index % 3], published_at=now - timedelta(minutes=index + 1)) for index in range(24)
    ]
    services.feed_rebuild(user_id=viewer.pk)
    for video in videos[:9]:  # the newest nine, across every creator
        store.mark_seen(user_id=viewer.pk, feed_id=video.feed_id)

    shown = warm_ids(viewer, limit=5, pages_wanted=2)

    assert shown == [str(video.id) for video in videos[9:19]]
