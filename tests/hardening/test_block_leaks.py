"""A blocked user can do nothing with the blocker's videos, except report them."""

import pytest

from activity.models import View
from activity.services import block_create
from tests.conftest import client_for
from tests.factories import UserFactory, VideoFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def blocked_pair(django_capture_on_commit_callbacks):
    blocker, blocked = UserFactory(username="blocker"), UserFactory(username="blocked")
    video = VideoFactory(owner=blocker)
    with django_capture_on_commit_callbacks(execute=True):
        block_create(blocker=blocker, blocked=blocked)
    return blocker, blocked, video


def test_blocked_user_cannot_record_a_view_on_the_blockers_video(blocked_pair):
    _, blocked, video = blocked_pair
    response = client_for(blocked).post(f"/api/v1/videos/{video.id}/view", {"watched_ms": 3000}, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert not View.objects.filter(video=video).exists()


def test_the_blocker_cannot_record_a_view_on_the_blocked_users_video_either(blocked_pair):
    blocker, blocked, _ = blocked_pair
    theirs = VideoFactory(owner=blocked)
    response = client_for(blocker).post(f"/api/v1/videos/{theirs.id}/view", {"watched_ms": 3000}, format="json")
    assert response.status_code == 404


def test_a_blocked_user_can_still_report_the_blockers_video(blocked_pair):
    """Abuse reports are never blockable: blocking must not hide abuse from moderators."""
    _, blocked, video = blocked_pair
    response = client_for(blocked).post(f"/api/v1/videos/{video.id}/report", {"reason": "spam"}, format="json")
    assert response.status_code == 201, response.content
