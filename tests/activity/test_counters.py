"""Counters: Redis deltas flushed to Postgres, never negative, repaired by a recount."""

from unittest import mock

import pytest
import redis
from django_redis import get_redis_connection

from activity.engagement import counters
from activity.engagement.counters import COUNTER_PENDING_KEY, COUNTER_PROCESSING_KEY, counter_flush, counter_recount
from activity.engagement.tasks import flush_counters, recount_counters
from activity.models import Comment, CommentState, Follow, Like, View
from tests.factories import CommentFactory, VideoFactory
from tiktok.locks import AdvisoryLock, advisory_lock, lock_id
from videos.models import Video

pytestmark = pytest.mark.django_db


def durable():
    return get_redis_connection("durable")


def test_flush_applies_all_pending_deltas_in_one_pass_and_empties_redis(make_user):
    first, second = VideoFactory.create_batch(2)
    creator = make_user()
    key = COUNTER_PENDING_KEY.format(entity="video")
    durable().hset(key, mapping={f"{first.id}:likes": 3, f"{first.id}:views": 7, f"{second.id}:comments": 2})
    durable().hset(COUNTER_PENDING_KEY.format(entity="user"), f"{creator.pk}:followers", 4)

    assert flush_counters.delay().get() == {"video": 2, "user": 1}

    first.refresh_from_db()
    second.refresh_from_db()
    creator.refresh_from_db()
    assert (first.likes_count, first.views_count, second.comments_count, creator.followers_count) == (3, 7, 2, 4)
    assert durable().keys("counters:*") == []
    assert counter_flush() == {"video": 0, "user": 0}


def test_counts_never_go_negative(auth_client, video, run_on_commit):
    with run_on_commit():
        auth_client.put(f"/api/v1/videos/{video.id}/like")
    # The count was flushed elsewhere as 0 (e.g. a recount raced): the unlike's -1 clamps.
    durable().delete(COUNTER_PENDING_KEY.format(entity="video"))
    with run_on_commit():
        auth_client.delete(f"/api/v1/videos/{video.id}/like")
    durable().hincrby(COUNTER_PENDING_KEY.format(entity="video"), f"{video.id}:likes", -5)
    counter_flush()
    video.refresh_from_db()
    assert video.likes_count == 0


def test_a_batch_left_by_a_crashed_flush_is_applied_once_by_the_next_flush(video):
    key = COUNTER_PENDING_KEY.format(entity="video")
    durable().hset(key, f"{video.id}:likes", 2)
    with mock.patch.object(counters, "_apply", side_effect=RuntimeError("worker died")), pytest.raises(RuntimeError):
        counter_flush()
    # The taken batch is still there; new likes meanwhile go to a fresh pending hash.
    assert durable().hgetall(COUNTER_PROCESSING_KEY.format(entity="video")) == {f"{video.id}:likes".encode(): b"2"}
    durable().hincrby(key, f"{video.id}:likes", 1)

    counter_flush()
    video.refresh_from_db()
    assert video.likes_count == 3
    counter_flush()
    video.refresh_from_db()
    assert video.likes_count == 3


def test_the_flush_lock_keeps_a_second_worker_out_until_released(video):
    durable().hset(COUNTER_PENDING_KEY.format(entity="video"), f"{video.id}:likes", 1)
    with advisory_lock(AdvisoryLock.COUNTERS) as acquired:
        assert acquired
        # Another session (a second worker) cannot take it.
        from django.db import connections

        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [lock_id(AdvisoryLock.COUNTERS)])
                assert cursor.fetchone()[0] is False
        finally:
            other.close()
    assert counter_flush() == {"video": 1, "user": 0}


def test_recount_repairs_drifted_counts(make_user):
    video = VideoFactory()
    fans = [make_user() for _ in range(3)]
    for fan in fans:
        Like.objects.create(user=fan, video=video)
        View.objects.create(viewer=fan, video=video, watched_ms=1)
        Follow.objects.create(follower=fan, followee=video.owner)
    CommentFactory(video=video)
    CommentFactory(video=video, state=CommentState.REMOVED)
    Video.objects.filter(pk=video.pk).update(likes_count=99, favorites_count=5, comments_count=0, views_count=1)
    type(video.owner).objects.filter(pk=video.owner.pk).update(followers_count=1000)
    untouched = VideoFactory()

    assert recount_counters.delay().get() == {"video": 1, "user": 4}

    video.refresh_from_db()
    video.owner.refresh_from_db()
    assert (video.likes_count, video.favorites_count, video.comments_count, video.views_count) == (3, 0, 1, 3)
    assert video.owner.followers_count == 3
    assert all(fan.__class__.objects.get(pk=fan.pk).following_count == 1 for fan in fans)
    assert Video.objects.get(pk=untouched.pk).likes_count == 0
    assert counter_recount() == {"video": 0, "user": 0}


def test_a_like_is_kept_when_the_durable_redis_is_down(auth_client, user, video, run_on_commit, caplog):
    # A client of a port where nothing listens: the durable Redis is down for the counters.
    unreachable = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    with mock.patch.object(counters, "_redis", return_value=unreachable), run_on_commit():
        response = auth_client.put(f"/api/v1/videos/{video.id}/like")
    assert response.status_code == 200
    assert Like.objects.filter(user=user, video=video).exists()
    assert "lost" in caplog.text
    counter_recount()
    video.refresh_from_db()
    assert video.likes_count == 1


def test_flush_invalidates_cached_cards_when_the_videos_app_offers_it(video):
    durable().hset(COUNTER_PENDING_KEY.format(entity="video"), f"{video.id}:likes", 1)
    with mock.patch("videos.selectors.video_cards_invalidate", create=True) as invalidate:
        counter_flush()
    invalidate.assert_called_once_with([str(video.id)])


def test_beat_schedule_names_registered_tasks():
    from tiktok.celery import app, beat_schedule

    app.loader.import_default_modules()
    for entry in beat_schedule().values():
        assert entry["task"] in app.tasks


def test_deleting_a_comment_and_recount_agree_on_visible_comments(video):
    comments = [CommentFactory(video=video) for _ in range(2)]
    Comment.objects.filter(pk=comments[0].pk).update(state=CommentState.REMOVED)
    counter_recount()
    video.refresh_from_db()
    assert video.comments_count == 1
