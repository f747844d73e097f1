"""Reports on videos and comments: deduplicated while open, weighed by the reporter's age
and standing, throttled, and automatic hiding that leaves the decision to a moderator."""

import time
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from moderation import services, weights
from moderation.models import Report, ReportStatus
from tests.factories import CommentFactory, FollowFactory, VideoFactory
from tests.helpers.api import assert_error, client_for
from videos.models import Moderation, Video

pytestmark = pytest.mark.django_db

QUEUE = "/admin/moderation/reportedvideo/"


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


def established(make_user, *, days: int = 30):
    """An account registered ``days`` ago that has used the platform (it follows someone)."""
    user = make_user(date_joined=timezone.now() - timedelta(days=days))
    FollowFactory(follower=user)
    return user


def report_video(login, reporter, video, run_on_commit):
    with run_on_commit():
        response = login(reporter).post(f"/api/v1/videos/{video.id}/report", {"reason": "spam"}, format="json")
    assert response.status_code == 201, response.content
    return response


def moderation_of(video) -> str:
    return Video.objects.get(pk=video.pk).moderation


def test_video_is_hidden_once_enough_established_users_reported_it(login, make_user, settings, run_on_commit):
    settings.REPORT_AUTO_HIDE_THRESHOLD = 3
    video = VideoFactory()
    reporters = [established(make_user) for _ in range(3)]
    for reporter in reporters[:2]:
        report_video(login, reporter, video, run_on_commit)
        with run_on_commit():  # a repeat is the same report: it adds nothing
            again = login(reporter).post(f"/api/v1/videos/{video.id}/report", {"reason": "spam"}, format="json")
        assert again.status_code == 200
    assert moderation_of(video) == Moderation.VISIBLE
    report_video(login, reporters[2], video, run_on_commit)
    assert moderation_of(video) == Moderation.HIDDEN


def test_five_brand_new_accounts_never_hide_a_video(login, make_user, settings, run_on_commit):
    assert settings.REPORT_AUTO_HIDE_THRESHOLD == 5
    video = VideoFactory()
    # Registered a minute ago, and even active (they follow someone): still weight 0.
    brigade = [established(make_user, days=0) for _ in range(5)] + [make_user() for _ in range(5)]
    for reporter in brigade:
        report_video(login, reporter, video, run_on_commit)
    assert moderation_of(video) == Moderation.VISIBLE
    assert Report.objects.filter(video=video, status=ReportStatus.OPEN).count() == 10
    assert set(Report.objects.filter(video=video).values_list("weight", flat=True)) == {Decimal(0)}


def test_old_accounts_that_never_did_anything_weigh_nothing(make_user):
    idle = make_user(date_joined=timezone.now() - timedelta(days=400))
    assert weights.report_weight(reporter=idle) == 0
    assert weights.report_weight(reporter=established(make_user, days=400)) == 1


def test_five_established_accounts_hide_a_video_and_it_heads_the_review_queue(
    login, make_user, settings, run_on_commit, moderator_client
):
    assert settings.REPORT_AUTO_HIDE_THRESHOLD == 5
    video = VideoFactory(caption="reported by real users")
    for reporter in [established(make_user) for _ in range(5)]:
        report_video(login, reporter, video, run_on_commit)
    assert moderation_of(video) == Moderation.HIDDEN
    assert Video.objects.get(pk=video.pk).moderation_final is False
    # Auto-hide decides nothing for good: the reports stay open for a moderator, and the
    # queue lists the video.
    assert Report.objects.filter(video=video, status=ReportStatus.OPEN).count() == 5
    queue = moderator_client.get(QUEUE)
    assert queue.status_code == 200
    assert str(video.pk) in queue.content.decode()


def test_young_accounts_weigh_less_and_dismissed_reporters_count_less(make_user, moderator):
    assert weights.report_weight(reporter=established(make_user, days=2)) == Decimal("0.285")
    reporter = established(make_user)
    assert weights.report_weight(reporter=reporter) == 1
    for _ in range(3):
        closed = services.video_report_create(reporter=reporter, video_id=VideoFactory().pk, reason="spam").report
        services.report_dismiss(report=closed, actor=moderator, reason="not spam")
    assert weights.report_weight(reporter=reporter) == Decimal("0.25")
    upheld = services.video_report_create(reporter=reporter, video_id=VideoFactory().pk, reason="spam").report
    services.report_resolve(report=upheld, actor=moderator, reason="right")
    assert weights.report_weight(reporter=reporter) == Decimal("0.4")


def test_reports_past_the_hourly_cap_of_a_video_are_recorded_but_weigh_nothing(
    login, make_user, settings, run_on_commit
):
    settings.REPORT_AUTO_HIDE_THRESHOLD = 3
    settings.REPORT_TARGET_COUNTED_PER_HOUR = 2
    video = VideoFactory()
    for reporter in [established(make_user) for _ in range(3)]:
        report_video(login, reporter, video, run_on_commit)
    weights = list(Report.objects.filter(video=video).order_by("id").values_list("weight", flat=True))
    assert weights == [1, 1, 0]
    assert moderation_of(video) == Moderation.VISIBLE


def test_reports_are_throttled_per_account(auth_client, settings):
    """Reports count in fixed hourly windows: a minute into one, the refusal says to wait
    the rest of the hour (on a frozen clock: near the end of a window the wait is short)."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "reports": "3/hour"},
    }
    hour = 3600
    next_window = (int(time.time()) // hour + 1) * hour
    with time_machine.travel(next_window + 60, tick=False):
        videos = [VideoFactory() for _ in range(4)]
        for video in videos[:3]:
            accepted = auth_client.post(f"/api/v1/videos/{video.id}/report", {"reason": "spam"}, format="json")
            assert accepted.status_code == 201
        refused = auth_client.post(f"/api/v1/videos/{videos[3].id}/report", {"reason": "spam"}, format="json")
        assert_error(refused, 429, "throttled")
        assert int(refused["Retry-After"]) == hour - 60  # the rest of the hourly window
        comment = CommentFactory()
        on_comment = auth_client.post(f"/api/v1/comments/{comment.id}/report", {"reason": "spam"}, format="json")
        assert_error(on_comment, 429, "throttled")
        assert not Report.objects.filter(video=videos[3]).exists()


def test_a_moderators_final_decision_is_not_overridden_by_reports(login, make_user, settings, run_on_commit):
    settings.REPORT_AUTO_HIDE_THRESHOLD = 1
    video = VideoFactory(moderation_final=True)
    report_video(login, established(make_user), video, run_on_commit)
    assert Video.objects.get(pk=video.pk).moderation == Moderation.VISIBLE
