"""For You's ranker: fitted by beat on what viewers liked next, read by the list builder."""

from datetime import timedelta

import pytest
from django.utils import timezone

from activity.models import Like, View
from discovery import model, ranking, tasks, training
from tests.factories import UserFactory
from tests.helpers.api import client_for
from tests.helpers.discovery import tagged_video
from tiktok.celery import beat_schedule

pytestmark = pytest.mark.django_db

DAY_MINUTES = 24 * 60


def _like(user, video, *, minutes_ago: float) -> None:
    at = timezone.now() - timedelta(minutes=minutes_ago)
    like = Like.objects.create(user=user, video=video)
    Like.objects.filter(pk=like.pk).update(created_at=at)
    view = View.objects.create(viewer=user, video=video, watched_ms=int(video.duration * 1000))
    View.objects.filter(pk=view.pk).update(created_at=at - timedelta(seconds=5))


def _watch(user, video, *, finished: bool) -> None:
    View.objects.create(viewer=user, video=video, watched_ms=int(video.duration * 1000) if finished else 500)


def _cats_world(viewers: int = 12):
    """#cats videos of one age that viewers finish ("gripping") and ones with more likes that
    they skip ("dull"); viewers who liked old #cats videos, then gripping ones."""
    creators = UserFactory.create_batch(8)
    old = [tagged_video(creators[n % 8], f"old #cats {n}", age_minutes=4 * DAY_MINUTES) for n in range(6)]
    gripping = [tagged_video(creators[n % 8], f"gripping #cats {n}", age_minutes=DAY_MINUTES) for n in range(8)]
    dull = [
        tagged_video(creators[(n + 3) % 8], f"dull #cats {n}", age_minutes=DAY_MINUTES, likes_count=30)
        for n in range(8)
    ]
    for watcher in UserFactory.create_batch(4):
        for video in gripping:
            _watch(watcher, video, finished=True)
        for video in dull:
            _watch(watcher, video, finished=False)
    for n, viewer in enumerate(UserFactory.create_batch(viewers)):
        for video in old[:5]:
            _like(viewer, video, minutes_ago=3 * DAY_MINUTES)
        for k in range(5):
            _like(viewer, gripping[(n + k) % len(gripping)], minutes_ago=60 - k)
    return old, gripping, dull


def test_before_the_first_fit_the_ranker_uses_the_default_weights():
    assert model.current_weights() == model.DEFAULT_WEIGHTS


def _mean_position(ranked: list, videos: list) -> float:
    positions = {item.video_id: n for n, item in enumerate(ranked)}
    assert {str(video.id) for video in videos} <= set(positions)
    return sum(positions[str(video.id)] for video in videos) / len(videos)


def test_after_the_fit_videos_viewers_finish_rank_above_more_liked_ones_they_skip(monkeypatch):
    monkeypatch.setattr(training, "MIN_PAIRS", 50)
    old, gripping, dull = _cats_world()
    newcomer = UserFactory()
    for video in old[:5]:
        _like(newcomer, video, minutes_ago=2 * DAY_MINUTES)
    by_defaults = ranking.rank_for_user(user_id=newcomer.pk)
    assert _mean_position(by_defaults, dull) < _mean_position(by_defaults, gripping)  # likes win

    fit = tasks.fit_for_you_ranker()  # the beat task

    assert fit["fitted"] is True
    assert fit["likes_in_candidates"] > 0 and fit["pairs"] >= 50
    assert model.current_weights() == pytest.approx(fit["weights"])
    ranked = ranking.rank_for_user(user_id=newcomer.pk)
    # What viewers went on to like (and finish) now comes well before what they skip.
    assert _mean_position(ranked, gripping) + 3 < _mean_position(ranked, dull)


def test_the_cards_still_say_why_after_the_fit(monkeypatch):
    monkeypatch.setattr(training, "MIN_PAIRS", 50)
    old, gripping, _ = _cats_world()
    newcomer = UserFactory()
    for video in old[:5]:
        _like(newcomer, video, minutes_ago=2 * DAY_MINUTES)
    assert tasks.fit_for_you_ranker()["fitted"] is True
    tasks.rebuild_for_you(newcomer.pk)

    body = client_for(newcomer).get("/api/v1/feed/for-you", {"limit": 20}).json()

    cards = {card["id"]: card for card in body["items"]}
    assert {str(video.id) for video in gripping} & set(cards)
    assert all("liked #cats videos" in cards[str(video.id)]["rank"]["reasons"] for video in gripping)
    assert not {str(video.id) for video in old[:5]} & set(cards)  # liked already: not again


def test_too_little_recent_engagement_keeps_the_default_weights():
    _cats_world(viewers=2)  # 2 viewers x 5 likes x <= 20 others: under MIN_PAIRS

    fit = training.ranker_fit()

    assert fit["fitted"] is False
    assert model.current_weights() == model.DEFAULT_WEIGHTS


def test_the_fit_predicts_likes_from_what_the_viewer_did_before_them():
    old, gripping, _ = _cats_world(viewers=1)
    viewer = Like.objects.filter(video=gripping[0]).get().user
    before = timezone.now() - timedelta(minutes=61)

    as_then = {item.video_id for item in ranking.candidates_for_user(user_id=viewer.pk, before=before)}
    as_now = {item.video_id for item in ranking.candidates_for_user(user_id=viewer.pk)}

    liked_later = {str(video.id) for video in gripping[:5]}
    assert liked_later <= as_then  # not seen yet then: the videos to predict are candidates
    assert not liked_later & as_now
    assert not {str(video.id) for video in old[:5]} & as_then


def test_a_cards_reasons_put_the_source_that_contributed_most_first():
    weights = dict(model.DEFAULT_WEIGHTS, hashtags=1.0, trending=5.0, tag_match=-10.0)
    labels = {"hashtags": "liked #cats videos", "trending": "trending"}

    def reasons(**features):
        return model.reasons(features=features, weights=weights, labels=labels)

    assert reasons(hashtags=2.0, trending=0.1, tag_match=0.0) == ["liked #cats videos", "trending"]
    assert reasons(hashtags=2.0, trending=1.0, tag_match=0.0) == ["trending", "liked #cats videos"]
    # The hashtag match counts for the hashtags' reason (here it pulls it down).
    assert reasons(hashtags=2.0, trending=0.1, tag_match=0.5) == ["trending", "liked #cats videos"]


def test_beat_refits_the_ranker_every_hour_or_so():
    tick = beat_schedule()["feed-for-you-ranker"]
    assert tick["task"] == "discovery.tasks.fit_for_you_ranker"
    assert tick["schedule"] <= 3600


def test_the_fit_orders_pairs_by_the_features_that_separate_them():
    liked = [{"completion_rate": 0.9, "log_likes": 1.0 + n % 3} for n in range(40)]
    other = [{"completion_rate": 0.2, "log_likes": 1.0 + (n + 1) % 3} for n in range(40)]

    weights = model.fit_pairwise(zip(liked, other, strict=True))

    assert weights["completion_rate"] > 0
    assert abs(weights["log_likes"]) < weights["completion_rate"]
    assert model.score(liked[0], weights) > model.score(other[0], weights)
