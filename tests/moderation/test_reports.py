"""Reports on videos and comments: deduplicated while open, and automatic hiding."""

import pytest

from moderation.models import Report, ReportStatus
from tests.activity.conftest import assert_error
from tests.conftest import client_for
from tests.factories import CommentFactory, VideoFactory
from videos.models import Moderation, Video

pytestmark = pytest.mark.django_db


@pytest.fixture
def video(db):
    return VideoFactory()


@pytest.fixture
def login():
    return client_for


def test_video_report_is_created_once_and_a_repeat_returns_the_open_report(auth_client, user, video):
    first = auth_client.post(f"/api/v1/videos/{video.id}/report", {"reason": "spam", "details": "ads"}, format="json")
    second = auth_client.post(f"/api/v1/videos/{video.id}/report", {"reason": "hate"}, format="json")
    assert first.status_code == 201, first.content
    assert second.status_code == 200
    assert first.json() == second.json()
    body = first.json()
    assert body["target"] == {"type": "video", "id": str(video.id)}
    assert (body["reason"], body["details"], body["status"]) == ("spam", "ads", "open")
    assert Report.objects.filter(reporter=user, video=video).count() == 1


def test_a_new_report_can_be_opened_after_the_previous_one_was_resolved(auth_client, video):
    first = auth_client.post(f"/api/v1/videos/{video.id}/report", {"reason": "spam"}, format="json").json()
    Report.objects.filter(pk=first["id"]).update(status=ReportStatus.DISMISSED)
    again = auth_client.post(f"/api/v1/videos/{video.id}/report", {"reason": "spam"}, format="json")
    assert again.status_code == 201
    assert again.json()["id"] != first["id"]


def test_comment_report_is_deduplicated(auth_client, user):
    comment = CommentFactory()
    first = auth_client.post(f"/api/v1/comments/{comment.id}/report", {"reason": "harassment"}, format="json")
    second = auth_client.post(f"/api/v1/comments/{comment.id}/report", {"reason": "harassment"}, format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["target"] == {"type": "comment", "id": str(comment.id)}
    assert Report.objects.filter(reporter=user, comment=comment).count() == 1


def test_report_validation_and_unknown_targets_use_the_error_shape(auth_client, video):
    error = assert_error(
        auth_client.post(f"/api/v1/videos/{video.id}/report", {"reason": "boring"}, format="json"), 400
    )
    assert "reason" in error["fields"]
    assert_error(auth_client.post(f"/api/v1/videos/{video.id}/report", {}, format="json"), 400, "invalid")
    assert_error(auth_client.post("/api/v1/videos/nope/report", {"reason": "spam"}, format="json"), 404, "not_found")
    assert_error(auth_client.post("/api/v1/comments/424242/report", {"reason": "spam"}, format="json"), 404)


def test_video_is_hidden_once_enough_distinct_users_reported_it(login, make_user, settings, run_on_commit):
    settings.REPORT_AUTO_HIDE_THRESHOLD = 3
    video = VideoFactory()
    reporters = [make_user() for _ in range(3)]
    for reporter in reporters[:2]:
        with run_on_commit():
            client = login(reporter)
            client.post(f"/api/v1/videos/{video.id}/report", {"reason": "spam"}, format="json")
            client.post(f"/api/v1/videos/{video.id}/report", {"reason": "spam"}, format="json")
    assert Video.objects.get(pk=video.pk).moderation == Moderation.VISIBLE
    with run_on_commit():
        login(reporters[2]).post(f"/api/v1/videos/{video.id}/report", {"reason": "spam"}, format="json")
    assert Video.objects.get(pk=video.pk).moderation == Moderation.HIDDEN


def test_a_moderators_final_decision_is_not_overridden_by_reports(login, make_user, settings, run_on_commit):
    settings.REPORT_AUTO_HIDE_THRESHOLD = 1
    video = VideoFactory(moderation_final=True)
    with run_on_commit():
        login(make_user()).post(f"/api/v1/videos/{video.id}/report", {"reason": "spam"}, format="json")
    assert Video.objects.get(pk=video.pk).moderation == Moderation.VISIBLE
