"""Views: one recorded impression per viewer and video per hour."""

from unittest import mock

import pytest

from activity.engagement import services
from activity.engagement.counters import counter_flush, pending_deltas
from activity.engagement.selectors import recent_views
from activity.models import View
from tests.factories import VideoFactory
from tests.helpers.api import assert_error
from videos.models import Moderation

pytestmark = pytest.mark.django_db


def test_views_are_deduplicated_within_the_hour(auth_client, user, video, run_on_commit):
    with run_on_commit():
        first = auth_client.post(f"/api/v1/videos/{video.id}/view", {"watched_ms": 1200}, format="json")
        second = auth_client.post(f"/api/v1/videos/{video.id}/view", {"watched_ms": 5000}, format="json")
    assert (first.status_code, second.status_code) == (202, 202)
    assert (first.json(), second.json()) == ({"recorded": True}, {"recorded": False})
    assert list(View.objects.values_list("viewer_id", "watched_ms")) == [(user.pk, 1200)]
    counter_flush()
    video.refresh_from_db()
    assert video.views_count == 1


def test_views_of_different_viewers_are_each_recorded(login, make_user, video, run_on_commit):
    with run_on_commit():
        for _ in range(3):
            login(make_user()).post(f"/api/v1/videos/{video.id}/view", {"watched_ms": 10}, format="json")
    assert pending_deltas(entity="video", object_ids=[video.id]) == {str(video.id): {"views": 3}}


def test_views_fall_back_to_the_database_when_the_cache_is_down(auth_client, video):
    with mock.patch.object(services, "get_redis_connection", side_effect=ConnectionError("down")):
        first = auth_client.post(f"/api/v1/videos/{video.id}/view", {"watched_ms": 10}, format="json")
        second = auth_client.post(f"/api/v1/videos/{video.id}/view", {"watched_ms": 10}, format="json")
    assert (first.json(), second.json()) == ({"recorded": True}, {"recorded": False})
    assert View.objects.count() == 1


@pytest.mark.parametrize("payload", [{}, {"watched_ms": -1}, {"watched_ms": 600_001}, {"watched_ms": "long"}])
def test_invalid_watch_time_is_a_400(auth_client, video, payload):
    error = assert_error(auth_client.post(f"/api/v1/videos/{video.id}/view", payload, format="json"), 400, "invalid")
    assert "watched_ms" in error["fields"]


def test_views_of_hidden_videos_are_a_404(auth_client):
    video = VideoFactory(moderation=Moderation.HIDDEN)
    assert_error(auth_client.post(f"/api/v1/videos/{video.id}/view", {"watched_ms": 1}, format="json"), 404)


def test_recent_views_lists_distinct_videos_most_recent_first(user):
    from django.utils import timezone

    start = timezone.now()
    a, b = VideoFactory.create_batch(2)
    for video in (a, b, a):
        View.objects.create(viewer=user, video=video, watched_ms=1)
    assert recent_views(viewer_id=user.pk, since=start) == [str(a.id), str(b.id)]
