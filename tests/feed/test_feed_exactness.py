"""Paged to the end, the precomputed feed shows exactly the videos of the feed computed in
SQL, in the same order: past the Redis cap, with big creators merged at read time whose
own sets are capped too, with ties in publish time (ordered by feed id, as numbers), and
after fan-out trims a full feed.

The caps are scaled down (a feed of 40, creator sets of 12) so a few hundred videos pass
them the way a large data set passes 500 and 200."""

import random
from datetime import timedelta

import orjson
import pytest
from django.utils import timezone

from feed import pages, services, store
from tests.factories import FollowFactory, UserFactory, VideoFactory
from tests.helpers.api import client_for
from tests.helpers.feed import next_two_feed_ids_cross_a_power_of_ten, precomputed_feed, queries_during, sql_feed
from tiktok.outbox import enqueue_on_commit
from videos.services import video_published

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_caps(settings):
    settings.FEED_MAX_ITEMS = 40
    settings.FEED_BIG_CREATOR_KEEP = 12
    settings.BIG_CREATOR_FOLLOWERS = 3
    settings.FEED_FOLLOW_BACKFILL = 10


def make_world(rng: random.Random):
    """A viewer following 8 small creators and 2 big ones, ~300 videos over ten days,
    some published in the same microsecond, some hidden or by a suspended creator."""
    now = timezone.now()
    viewer = UserFactory()
    small = UserFactory.create_batch(8)
    big = UserFactory.create_batch(2)
    for creator in big:
        creator.followers_count = 10  # above BIG_CREATOR_FOLLOWERS
        creator.save(update_fields=["followers_count"])
    for creator in [*small, *big]:
        FollowFactory(follower=viewer, followee=creator)
    stranger = UserFactory()
    tie = now - timedelta(hours=30)
    for creator in [*small, *big, stranger]:
        for index in range(rng.randint(15, 40)):
            published = tie if index % 9 == 0 else now - timedelta(minutes=rng.randint(1, 14_400))
            VideoFactory(owner=creator, published_at=published)
    VideoFactory(owner=small[0], published_at=now - timedelta(hours=2), moderation="hidden")
    return viewer, small, big


@pytest.mark.parametrize("seed", [1, 2])
def test_the_precomputed_feed_paged_to_the_end_equals_the_sql_feed(small_caps, seed):
    rng = random.Random(seed)
    viewer, _, big = make_world(rng)
    services.feed_rebuild(user_id=viewer.pk)
    assert store.feed_size(user_id=viewer.pk) == 40  # the cap was passed
    expected = sql_feed(viewer, limit=10)
    assert len(expected) > 200
    client = client_for(viewer)
    for limit in (7, 10):
        assert precomputed_feed(client, limit=limit) == expected


def test_fan_out_into_a_full_feed_keeps_the_feed_exact(small_caps, django_capture_on_commit_callbacks):
    rng = random.Random(3)
    viewer, small, big = make_world(rng)
    client = client_for(viewer)
    precomputed_feed(client, limit=10)  # built on first read
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        for index, creator in enumerate([*small, *big] * 2):
            # New videos, and a late one (published long ago, fanned out now) that the
            # trim drops at once: it must still show up, from SQL.
            minutes = 1 + index if index % 5 else 20_000
            video = VideoFactory(owner=creator, published_at=now - timedelta(minutes=minutes, seconds=-30))
            video_published(video_id=video.id)
        # A follow merges a creator's recent videos into the full feed.
        newcomer = UserFactory()
        for index in range(15):
            VideoFactory(owner=newcomer, published_at=now - timedelta(hours=index * 7))
        FollowFactory(follower=viewer, followee=newcomer)
        enqueue_on_commit("feed.tasks.merge_creator_into_feed", viewer.pk, newcomer.pk)
    assert precomputed_feed(client, limit=9) == sql_feed(viewer, limit=9)


def test_a_big_creators_trimmed_set_hands_over_to_sql_without_skipping(small_caps):
    now = timezone.now()
    viewer, star, friend = UserFactory(), UserFactory(followers_count=10), UserFactory()
    FollowFactory(follower=viewer, followee=star)
    FollowFactory(follower=viewer, followee=friend)
    # The star posts often, the friend rarely: past the star's 12 kept videos the
    # friend's older ones must still come, in order, before the star's oldest.
    for index in range(30):
        VideoFactory(owner=star, published_at=now - timedelta(minutes=10 * index))
    for index in range(6):
        VideoFactory(owner=friend, published_at=now - timedelta(minutes=45 * index + 3))
    services.feed_rebuild(user_id=viewer.pk)
    shown = precomputed_feed(client_for(viewer), limit=5)
    assert shown == sql_feed(viewer, limit=5)
    assert len(shown) == 36


def test_videos_published_in_the_same_microsecond_page_in_feed_id_order_across_the_cut_and_floor(settings):
    settings.FEED_MAX_ITEMS = 10  # the floor falls inside the second tie
    now = timezone.now().replace(microsecond=123_456)
    viewer, creator = UserFactory(), UserFactory()
    FollowFactory(follower=viewer, followee=creator)
    videos = []
    for position in range(1, 15):
        if position in (7, 10):  # 7 and 8: at the cut of a limit-1 read (7 entries); 10, 11: at the floor
            next_two_feed_ids_cross_a_power_of_ten()
        tied = position in (8, 11)
        published = videos[-1].published_at if tied else now - timedelta(minutes=position)
        videos.append(VideoFactory(owner=creator, published_at=published))
    assert videos[6].published_at == videos[7].published_at and videos[7].feed_id == 10 ** len(str(videos[6].feed_id))
    expected = [str(v.id) for v in sorted(videos, key=lambda v: (v.published_at, v.feed_id), reverse=True)]
    services.feed_rebuild(user_id=viewer.pk)
    assert store.feed_size(user_id=viewer.pk) == 10

    client = client_for(viewer)
    for limit in (1, 2, 3):
        assert precomputed_feed(client, limit=limit) == expected
    assert sql_feed(viewer, limit=2) == expected

    # Warm now: the page script walks the ties in the same order, so above the floor every
    # page (the tie at the cut included) comes from Redis alone.
    cursor = None
    for video_id in expected[:9]:
        page, queries = queries_during(lambda: pages.feed_page(viewer=viewer, cursor=cursor, limit=1))  # noqa: B023
        assert queries == 0
        assert orjson.loads(page.items[0])["id"] == video_id
        cursor = page.next_cursor
