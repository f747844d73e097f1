"""For You: a ranked list per user, built by Celery, explained card by card."""

import copy
from collections import Counter
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from activity.models import Like, View
from discovery import pools, store, tasks
from tests.factories import FollowFactory, UserFactory, VideoFactory
from tests.helpers.api import client_for
from tests.helpers.discovery import tagged_video
from tiktok.celery import beat_schedule
from videos.models import Hashtag, Video

pytestmark = pytest.mark.django_db

# Older than the trending window and the exploration window: such a video reaches For You
# only through the viewer's own signals (hashtags, creators, co-engagement, follows).
OLD_MINUTES = 5 * 24 * 60


def for_you(client, **params):
    response = client.get("/api/v1/feed/for-you", params)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["source"] == "for_you"
    return body


def all_cards(client, limit: int = 10) -> list[dict]:
    cards, cursor = [], None
    for _ in range(50):
        body = for_you(client, limit=limit, **({"cursor": cursor} if cursor else {}))
        cards += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return cards
    raise AssertionError("For You did not end")


def test_a_new_user_gets_trending_and_fresh_videos_from_new_creators():
    popular = VideoFactory(likes_count=0, published_at=timezone.now() - timedelta(hours=30), views_count=500)
    for fan in UserFactory.create_batch(3):
        Like.objects.create(user=fan, video=popular)
    fresh = VideoFactory(views_count=0)
    newcomer = UserFactory()

    cards = for_you(client_for(newcomer))["items"]

    reasons = {card["id"]: card["rank"]["reasons"] for card in cards}
    assert "trending" in reasons[str(popular.id)]
    assert "new: few views yet" in reasons[str(fresh.id)]
    assert all(isinstance(card["rank"]["score"], float) for card in cards)


def test_liking_cats_videos_brings_cats_videos_of_unfollowed_creators_after_the_engagement_tick():
    viewer = UserFactory()
    followed = UserFactory()
    FollowFactory(follower=viewer, followee=followed)
    VideoFactory(owner=followed)
    liked = [tagged_video(UserFactory(), f"kitten {n} #cats", age_minutes=OLD_MINUTES) for n in range(3)]
    more_cats = {str(tagged_video(UserFactory(), f"more #cats {n}", age_minutes=OLD_MINUTES).id) for n in range(4)}
    tagged_video(UserFactory(), "a #dogs video", age_minutes=OLD_MINUTES)
    client = client_for(viewer)
    assert not more_cats & {card["id"] for card in all_cards(client)}

    for video in liked:
        assert client.put(f"/api/v1/videos/{video.id}/like").status_code in (200, 201, 204)
    assert tasks.refresh_engaged_for_you() >= 1  # the beat tick (tasks run eagerly in tests)

    cards = {card["id"]: card for card in all_cards(client)}
    assert more_cats <= set(cards)
    assert all("liked #cats videos" in cards[video_id]["rank"]["reasons"] for video_id in more_cats)
    assert not {str(video.id) for video in liked} & set(cards)  # liked already: not again
    assert all(card["viewer"]["following"] is False for video_id, card in cards.items() if video_id in more_cats)


def test_engagement_ticks_run_often_enough_to_show_new_interests_within_a_minute():
    tick = beat_schedule()["feed-for-you-engaged"]
    assert tick["task"] == "discovery.tasks.refresh_engaged_for_you"
    assert tick["schedule"] + settings.FOR_YOU_REBUILD_DEBOUNCE_SECONDS <= 30


def test_engagement_rebuilds_are_debounced_per_user():
    viewer, video = UserFactory(), VideoFactory()
    Like.objects.create(user=viewer, video=video)
    assert tasks.refresh_engaged_for_you() == 1
    assert tasks.refresh_engaged_for_you() == 0  # within the debounce window
    assert store.current_version(user_id=viewer.pk) is not None


def test_no_more_than_two_of_any_ten_consecutive_cards_come_from_one_creator():
    prolific = UserFactory()
    for _ in range(15):
        VideoFactory(owner=prolific, views_count=100)
    for _ in range(12):
        VideoFactory(views_count=100)

    cards = all_cards(client_for(UserFactory()), limit=7)

    owners = [card["creator"]["username"] for card in cards]
    assert len(owners) >= 12
    for start in range(len(owners)):
        assert max(Counter(owners[start : start + 10]).values()) <= 2, owners


def test_seen_hidden_and_own_videos_are_never_shown():
    viewer = UserFactory()
    watched, hidden, kept = VideoFactory(), VideoFactory(), VideoFactory()
    VideoFactory(owner=viewer)
    client = client_for(viewer)
    assert {str(watched.id), str(hidden.id), str(kept.id)} <= {card["id"] for card in all_cards(client)}

    response = client.post(f"/api/v1/videos/{watched.id}/view", {"watched_ms": 9000}, format="json")
    assert response.status_code == 202
    Video.objects.filter(id=hidden.id).update(moderation="hidden")
    from videos.selectors import video_cards_invalidate

    video_cards_invalidate([hidden.id])

    ids = [card["id"] for card in all_cards(client)]
    assert str(kept.id) in ids
    assert str(watched.id) not in ids
    assert str(hidden.id) not in ids
    assert not Video.objects.filter(id__in=ids, owner=viewer).exists()


def test_viewers_who_liked_a_video_also_liked_another_recommends_it():
    first = VideoFactory(published_at=timezone.now() - timedelta(minutes=OLD_MINUTES))
    neighbour = VideoFactory(published_at=timezone.now() - timedelta(minutes=OLD_MINUTES))
    for fan in UserFactory.create_batch(2):
        Like.objects.create(user=fan, video=first)
        View.objects.create(viewer=fan, video=neighbour, watched_ms=10_000)  # finished it
    viewer = UserFactory()
    Like.objects.create(user=viewer, video=first)

    assert tasks.recompute_co_engagement() >= 2
    tasks.rebuild_for_you(viewer.pk)

    cards = {card["id"]: card for card in all_cards(client_for(viewer))}
    assert "viewers like you liked or finished this" in cards[str(neighbour.id)]["rank"]["reasons"]


def test_co_engagement_keeps_a_bounded_number_of_neighbours(settings):
    settings.FOR_YOU_CO_NEIGHBOURS = 3
    videos = [VideoFactory() for _ in range(6)]
    for fan in UserFactory.create_batch(2):
        for video in videos:
            Like.objects.create(user=fan, video=video)
    tasks.recompute_co_engagement()
    neighbours = store.co_engaged(video_ids=[str(video.id) for video in videos])
    assert len(neighbours) == 6
    assert all(len(ids) == 3 for ids in neighbours.values())


def test_with_the_cache_redis_unreachable_for_you_answers_200_from_sql():
    viewer = UserFactory()
    cats = [tagged_video(UserFactory(), f"#cats {n}", age_minutes=OLD_MINUTES) for n in range(3)]
    Like.objects.create(user=viewer, video=cats[0])
    VideoFactory()
    client = client_for(viewer)
    unreachable = copy.deepcopy(settings.CACHES)
    unreachable["default"]["LOCATION"] = "redis://127.0.0.1:1/0"  # nothing listens there

    with override_settings(CACHES=unreachable):
        response = client.get("/api/v1/feed/for-you", {"limit": 1})
        assert response.status_code == 200, response.content
        assert response["X-Feed-Degraded"] == "redis-unavailable"
        first = response.json()
        second = client.get("/api/v1/feed/for-you", {"limit": 5, "cursor": first["next_cursor"]})
        assert second.status_code == 200, second.content

    ids = [card["id"] for card in first["items"] + second.json()["items"]]
    assert len(ids) == len(set(ids)) == 3
    reasons = {card["id"]: card["rank"]["reasons"] for card in first["items"] + second.json()["items"]}
    assert all("liked #cats videos" in reasons[str(video.id)] for video in cats[1:])


def test_bad_input_is_a_precise_400_and_anonymous_is_401(api_client):
    client = client_for(UserFactory())
    for params, field in (({"limit": "0"}, "limit"), ({"cursor": "forged"}, "cursor")):
        response = client.get("/api/v1/feed/for-you", params)
        assert response.status_code == 400
        assert field in response.json()["error"]["fields"]
    assert api_client.get("/api/v1/feed/for-you").status_code == 401


def test_a_muted_or_blocked_creator_leaves_for_you_at_once(django_capture_on_commit_callbacks):
    from activity.graph import services as graph_services

    viewer, muted, blocker = UserFactory(), UserFactory(), UserFactory()
    muted_video, blocker_video, other = VideoFactory(owner=muted), VideoFactory(owner=blocker), VideoFactory()
    client = client_for(viewer)
    assert {str(muted_video.id), str(blocker_video.id)} <= {card["id"] for card in all_cards(client)}

    with django_capture_on_commit_callbacks(execute=True):
        graph_services.mute_create(muter=viewer, muted=muted)
        graph_services.block_create(blocker=blocker, blocked=viewer)

    ids = {card["id"] for card in all_cards(client)}  # the same precomputed list, filtered
    assert str(other.id) in ids
    assert not {str(muted_video.id), str(blocker_video.id)} & ids


@pytest.mark.slow
def test_with_a_real_worker_liked_hashtags_reach_for_you_within_a_minute(celery_worker):
    import time

    from tests.helpers.stack import wait_until
    from tiktok.outbox import enqueue

    viewer = UserFactory()
    liked = [tagged_video(UserFactory(), f"kitten {n} #cats", age_minutes=OLD_MINUTES) for n in range(3)]
    more_cats = str(tagged_video(UserFactory(), "more #cats", age_minutes=OLD_MINUTES).id)
    client = client_for(viewer)
    assert more_cats not in {card["id"] for card in all_cards(client)}
    started = time.monotonic()
    for video in liked:
        assert client.put(f"/api/v1/videos/{video.id}/like").status_code in (200, 201, 204)

    def shown() -> bool:
        enqueue("discovery.tasks.refresh_engaged_for_you")  # what beat sends every tick
        return more_cats in {card["id"] for card in all_cards(client)}

    wait_until(shown, timeout=45, interval=settings.FOR_YOU_ENGAGED_INTERVAL_SECONDS / 3, message="cats in For You")
    assert time.monotonic() - started < 60


# --- Hashtag pools (``discovery.pools``) ---------------------------------------------


def _like_all(viewer, videos) -> None:
    for video in videos:
        Like.objects.create(user=viewer, video=video)


def test_beat_keeps_the_hashtag_pools_fresh():
    tick = beat_schedule()["feed-tag-pools"]
    assert tick["task"] == "discovery.tasks.recompute_tag_pools"
    assert tick["schedule"] <= 300


def test_a_well_liked_video_of_a_liked_hashtag_beats_newer_unliked_ones_from_unfollowed_creators(monkeypatch):
    monkeypatch.setattr(pools, "TAG_POOL_SIZE", 3)
    viewer = UserFactory()
    _like_all(viewer, [tagged_video(UserFactory(), f"kitten {n} #cats", age_minutes=OLD_MINUTES) for n in range(3)])
    loved = tagged_video(UserFactory(), "the best #cats", age_minutes=2 * 24 * 60, likes_count=40)
    newer = [tagged_video(UserFactory(), f"new #cats {n}", age_minutes=60 + n) for n in range(6)]
    dogs = [tagged_video(UserFactory(), f"#dogs {n}", age_minutes=OLD_MINUTES, likes_count=5) for n in range(3)]

    assert tasks.recompute_tag_pools() >= 2
    tasks.rebuild_for_you(viewer.pk)
    cards = all_cards(client_for(viewer))

    ids = [card["id"] for card in cards]
    assert str(loved.id) in ids  # past the newest-first window, kept by its likes
    assert ids.index(str(loved.id)) < min(ids.index(str(video.id)) for video in newer if str(video.id) in ids)
    assert "liked #cats videos" in cards[ids.index(str(loved.id))]["rank"]["reasons"]
    assert not {str(video.id) for video in dogs} & set(ids)  # no interest, no trending: not shown
    assert all(card["viewer"]["following"] is False for card in cards)


def test_hashtag_pools_are_bounded_in_tags_videos_and_age(monkeypatch):
    monkeypatch.setattr(pools, "TAG_POOL_SIZE", 3)
    monkeypatch.setattr(pools, "TAG_POOLS_MAX", 2)
    busy = [tagged_video(UserFactory(), f"#busy {n}", likes_count=n) for n in range(5)]
    for n in range(4):
        tagged_video(UserFactory(), f"#steady {n}")
    quiet = tagged_video(UserFactory(), "#quiet")
    tagged_video(UserFactory(), "#busy too old", age_minutes=(pools.TAG_POOL_DAYS + 1) * 24 * 60)
    tag_id = dict(Hashtag.objects.values_list("name", "id"))

    assert tasks.recompute_tag_pools() == 2

    stored = store.tag_pools(tag_ids=list(tag_id.values()))
    assert set(stored) == {tag_id["busy"], tag_id["steady"]}  # the two busiest tags
    assert all(len(pool) == 3 for pool in stored.values())
    assert set(stored[tag_id["busy"]]) == {str(video.id) for video in busy[2:]}  # the most liked
    # A tag without a pool is computed when a viewer needs it, and stored.
    assert pools.tag_pools(tag_ids=[tag_id["quiet"]]) == {
        tag_id["quiet"]: {str(quiet.id): pytest.approx(1.0, abs=0.01)}
    }
    assert tag_id["quiet"] in store.tag_pools(tag_ids=[tag_id["quiet"]])


def test_hidden_removed_blocked_and_suspended_videos_never_come_out_of_a_stale_pool(django_capture_on_commit_callbacks):
    from accounts.models import User
    from activity.graph import services as graph_services

    viewer = UserFactory()
    _like_all(viewer, [tagged_video(UserFactory(), f"kitten {n} #cats", age_minutes=OLD_MINUTES) for n in range(3)])
    hidden, removed, by_blocker, by_suspended, kept = (
        tagged_video(UserFactory(), f"#cats {name}", age_minutes=OLD_MINUTES, likes_count=9)
        for name in ("hidden", "removed", "blocker", "suspended", "kept")
    )
    tasks.recompute_tag_pools()  # the pool holds all five
    Video.objects.filter(id=hidden.id).update(moderation="hidden")
    Video.objects.filter(id=removed.id).update(moderation="removed")
    User.objects.filter(id=by_suspended.owner_id).update(suspended_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        graph_services.block_create(blocker=by_blocker.owner, blocked=viewer)

    tasks.rebuild_for_you(viewer.pk)  # from the stale pool
    ids = {card["id"] for card in all_cards(client_for(viewer))}

    assert str(kept.id) in ids
    assert not {str(video.id) for video in (hidden, removed, by_blocker, by_suspended)} & ids
