"""Moderation services: final decisions, automatic hiding, comments, reports, suspension, audit."""

import pytest

from activity.engagement.counters import pending_deltas
from activity.models import CommentState
from moderation import roles, services
from moderation.models import AuditAction, AuditEntry, Report, ReportStatus
from tests.factories import CommentFactory, FollowFactory, UserFactory, VideoFactory
from tests.helpers.api import client_for
from tiktok.exceptions import ApplicationError, PermissionDeniedError
from tiktok.models import OutboxMessage
from videos.models import Moderation, Video
from videos.services import video_published

pytestmark = pytest.mark.django_db


def feed_ids(client) -> list[str]:
    response = client.get("/api/v1/feed")
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def report(video, reporter=None):
    return Report.objects.create(video=video, reporter=reporter or UserFactory(), reason="spam")


def test_a_moderators_hide_is_final_and_audited_with_who_what_and_why(moderator):
    video = VideoFactory()
    services.video_moderate(video=video, moderation=Moderation.HIDDEN, actor=moderator, reason="spam ring")
    video.refresh_from_db()
    assert (video.moderation, video.moderation_final) == (Moderation.HIDDEN, True)
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.target_type, entry.target_id, entry.reason) == (
        moderator, AuditAction.VIDEO_HIDE, "videos.video", str(video.id), "spam ring",
    )  # fmt: skip
    assert entry.changes["moderation"] == ["visible", "hidden"]


def test_a_moderator_decision_needs_a_reason(moderator):
    video = VideoFactory()
    with pytest.raises(ApplicationError):
        services.video_moderate(video=video, moderation=Moderation.HIDDEN, actor=moderator, reason="  ")
    assert Video.objects.get(pk=video.pk).moderation == Moderation.VISIBLE


def test_automatic_hide_is_audited_as_the_system_and_is_not_final(settings):
    settings.REPORT_AUTO_HIDE_THRESHOLD = 2
    video = VideoFactory()
    report(video), report(video)
    assert services.video_report_threshold_check(video_id=video.pk) is True
    video.refresh_from_db()
    assert (video.moderation, video.moderation_final) == (Moderation.HIDDEN, False)
    entry = AuditEntry.objects.get()
    assert entry.actor is None and entry.action == AuditAction.VIDEO_HIDE and "2 users" in entry.reason


def test_a_video_a_moderator_restored_stays_visible_when_reported_again_and_reports_are_closed(settings, moderator):
    settings.REPORT_AUTO_HIDE_THRESHOLD = 2
    video = VideoFactory()
    report(video), report(video)
    services.video_report_threshold_check(video_id=video.pk)
    services.video_report_decide(video=video, moderation=Moderation.VISIBLE, actor=moderator, reason="satire, not spam")
    video.refresh_from_db()
    assert (video.moderation, video.moderation_final) == (Moderation.VISIBLE, True)
    assert set(Report.objects.values_list("status", flat=True)) == {ReportStatus.DISMISSED}

    later = [report(video) for _ in range(3)]
    assert services.video_report_threshold_check(video_id=video.pk) is False
    services.report_resolve(report=later[0], actor=moderator, reason="checked")
    services.report_dismiss(report=later[1], actor=moderator, reason="checked")
    assert Video.objects.get(pk=video.pk).moderation == Moderation.VISIBLE


def test_hiding_a_reported_video_resolves_its_open_reports(moderator):
    video = VideoFactory()
    reports = [report(video) for _ in range(2)]
    services.video_report_decide(video=video, moderation=Moderation.REMOVED, actor=moderator, reason="gore")
    for item in reports:
        item.refresh_from_db()
        assert (item.status, item.resolved_by, item.resolved_at is not None) == (ReportStatus.RESOLVED, moderator, True)
    actions = sorted(AuditEntry.objects.values_list("action", flat=True))
    assert actions == ["report_resolve", "report_resolve", "video_remove"]


def test_report_close_is_idempotent_and_audited_once(moderator):
    item = report(VideoFactory())
    services.report_dismiss(report=item, actor=moderator, reason="not spam")
    services.report_resolve(report=item, actor=moderator, reason="again")
    item.refresh_from_db()
    assert item.status == ReportStatus.DISMISSED
    assert AuditEntry.objects.filter(action=AuditAction.REPORT_DISMISS).count() == 1
    assert AuditEntry.objects.count() == 1


def test_removing_a_comment_decrements_the_count_and_restoring_increments_it(moderator, run_on_commit):
    comment = CommentFactory()
    with run_on_commit():
        services.comment_set_state(comment=comment, state=CommentState.REMOVED, actor=moderator, reason="abuse")
    assert pending_deltas(entity="video", object_ids=[comment.video_id])[str(comment.video_id)]["comments"] == -1
    with run_on_commit():
        services.comment_set_state(comment=comment, state=CommentState.REMOVED, actor=moderator, reason="x")
    assert pending_deltas(entity="video", object_ids=[comment.video_id])[str(comment.video_id)]["comments"] == -1
    with run_on_commit():
        services.comment_set_state(comment=comment, state=CommentState.VISIBLE, actor=moderator, reason="appeal")
    assert (
        pending_deltas(entity="video", object_ids=[comment.video_id]).get(str(comment.video_id), {}).get("comments", 0)
        == 0
    )
    assert list(AuditEntry.objects.order_by("id").values_list("action", flat=True)) == [
        "comment_remove", "comment_restore",
    ]  # fmt: skip


def test_suspension_takes_videos_out_of_feeds_at_once_and_reinstatement_brings_them_back(
    moderator, run_on_commit, django_capture_on_commit_callbacks
):
    creator, fan = UserFactory(), UserFactory()
    with run_on_commit():
        FollowFactory(follower=fan, followee=creator)
        video = VideoFactory(owner=creator)
        video_published(video_id=video.id)
    fan_client = client_for(fan)
    assert feed_ids(fan_client) == [str(video.id)]

    with django_capture_on_commit_callbacks(execute=False) as purges:
        services.user_suspend(user=creator, actor=moderator, reason="impersonation")
    # The purge task has not run: the read-time filter (invalidated card) drops it already.
    assert feed_ids(fan_client) == []
    assert purges  # the feed purges wait for the commit
    for callback in purges:
        callback()
    creator.refresh_from_db()
    assert creator.suspended_at is not None and creator.suspension_reason == "impersonation"
    assert not client_for_refused(creator)

    with run_on_commit():
        services.user_reinstate(user=creator, actor=moderator, reason="appeal accepted")
    assert feed_ids(fan_client) == [str(video.id)]
    assert list(AuditEntry.objects.order_by("id").values_list("action", flat=True)) == [
        "user_suspend", "user_reinstate",
    ]  # fmt: skip


def test_suspension_and_reinstatement_queue_one_feed_task_per_creator_not_one_per_video(moderator):
    creator = UserFactory()
    VideoFactory.create_batch(3, owner=creator)
    services.user_suspend(user=creator, actor=moderator, reason="spam bot")
    services.user_suspend(user=creator, actor=moderator, reason="again")  # idempotent: nothing queued
    services.user_reinstate(user=creator, actor=moderator, reason="appeal accepted")
    queued = list(OutboxMessage.objects.order_by("id").values_list("task_name", "args"))
    assert queued == [
        ("feed.tasks.creator_withdrawn", [creator.pk]), ("videos.tasks.owner_media_sync", [creator.pk]),
        ("feed.tasks.creator_restored", [creator.pk]), ("videos.tasks.owner_media_sync", [creator.pk]),
    ]  # fmt: skip


def test_a_new_report_queues_the_threshold_check_and_a_repeat_does_not(user):
    video = VideoFactory()
    first = services.video_report_create(reporter=user, video_id=video.pk, reason="spam")
    again = services.video_report_create(reporter=user, video_id=video.pk, reason="hate")
    assert (first.created, again.created, again.report.pk) == (True, False, first.report.pk)
    queued = list(OutboxMessage.objects.values_list("task_name", "args"))
    assert queued == [("moderation.tasks.video_report_threshold_check", [str(video.pk)])]


def client_for_refused(user) -> bool:
    from rest_framework.test import APIClient

    from tests.factories import PASSWORD

    response = APIClient().post("/api/v1/auth/login", {"username": user.username, "password": PASSWORD}, format="json")
    return response.status_code == 200


def test_a_moderator_cannot_suspend_staff_or_themselves_but_a_superuser_can(moderator, superuser):
    staff = UserFactory(is_staff=True)
    with pytest.raises(PermissionDeniedError):
        services.user_suspend(user=staff, actor=moderator, reason="x")
    with pytest.raises(PermissionDeniedError):
        services.user_suspend(user=moderator, actor=moderator, reason="x")
    services.user_suspend(user=staff, actor=superuser, reason="compromised account")
    staff.refresh_from_db()
    assert staff.suspended_at is not None


def test_the_moderators_group_has_exactly_the_workflow_permissions_and_ensure_is_idempotent(moderators_group):
    again = roles.moderators_group_ensure()
    codenames = set(again.permissions.values_list("content_type__app_label", "codename"))
    assert again.pk == moderators_group.pk
    assert codenames == {
        ("accounts", "view_user"), ("accounts", "suspend_user"),
        ("videos", "view_video"), ("videos", "moderate_video"),
        ("activity", "view_comment"), ("activity", "change_comment"),
        ("moderation", "view_report"), ("moderation", "change_report"),
        ("moderation", "view_reportedvideo"), ("moderation", "view_reportedcomment"),
        ("moderation", "view_auditentry"),
    }  # fmt: skip


def test_moderator_ensure_creates_a_staff_login_in_the_group_once():
    first = roles.moderator_ensure(username="moderator", password="demo-password-123")
    second = roles.moderator_ensure(username="moderator", password="other")
    assert first.pk == second.pk and first.is_staff and not first.is_superuser
    assert first.check_password("demo-password-123")
    assert first.has_perm("videos.moderate_video") and not first.has_perm("accounts.change_user")
