"""The admin: report queues, actions with a reason, roles, read-only audit, bounded queries."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from activity.models import Comment, CommentState, Favorite, Follow, Like, View
from moderation.models import AuditAction, AuditEntry, Report, ReportStatus
from tests.factories import CommentFactory, FollowFactory, UserFactory, VideoFactory
from tests.helpers.moderation import run_action
from tiktok.models import OutboxMessage
from videos.models import Moderation, Video

pytestmark = pytest.mark.django_db

QUEUE = "/admin/moderation/reportedvideo/"
COMMENT_QUEUE = "/admin/moderation/reportedcomment/"


def reported(video, count: int, reason: str = "spam"):
    return [Report.objects.create(video=video, reporter=UserFactory(), reason=reason) for _ in range(count)]


def test_report_queue_orders_by_urgency_auto_hidden_then_report_weight_then_longest_waiting(moderator_client):
    weightless, few, waiting_longer, many, hidden, closed = (
        VideoFactory(caption="weightless brigade"),
        VideoFactory(caption="few"),
        VideoFactory(caption="few, waiting longer"),
        VideoFactory(caption="many"),
        VideoFactory(caption="auto hidden", moderation=Moderation.HIDDEN),
        VideoFactory(caption="closed"),
    )
    Report.objects.filter(pk__in=[r.pk for r in reported(weightless, 4)]).update(weight=0)
    reported(few, 1)
    Report.objects.filter(pk=reported(waiting_longer, 1)[0].pk).update(created_at=timezone.now() - timedelta(hours=5))
    reported(many, 3, reason="hate")
    reported(hidden, 2, reason="nudity")
    Report.objects.create(video=closed, reporter=UserFactory(), reason="spam", status=ReportStatus.DISMISSED)
    response = moderator_client.get(QUEUE)
    assert response.status_code == 200
    shown = [video.caption for video in response.context["cl"].result_list]
    assert shown == ["auto hidden", "many", "few, waiting longer", "few", "weightless brigade"]
    page = response.content.decode()
    assert "Hate speech ×3" in page and "pending review" in page
    assert "<img" in page and f"processed/{many.id}/poster.jpg" in page


def test_moderator_hides_a_reported_video_from_the_queue_with_a_reason(moderator, moderator_client):
    video = VideoFactory()
    reports = reported(video, 2)
    response = run_action(moderator_client, QUEUE, "hide", [video.pk], reason="Coordinated spam")
    assert response.status_code == 302, response.content[:500]
    video.refresh_from_db()
    assert (video.moderation, video.moderation_final) == (Moderation.HIDDEN, True)
    assert {r.status for r in Report.objects.filter(pk__in=[r.pk for r in reports])} == {ReportStatus.RESOLVED}
    entry = AuditEntry.objects.get(action=AuditAction.VIDEO_HIDE)
    assert (entry.actor, entry.reason, entry.target_id) == (moderator, "Coordinated spam", str(video.id))
    assert moderator_client.get(QUEUE).context["cl"].result_count == 0  # nothing open any more


def test_an_action_without_a_reason_changes_nothing(moderator_client):
    video = VideoFactory()
    reported(video, 1)
    first = run_action(moderator_client, QUEUE, "hide", [video.pk], reason=None)
    assert first.status_code == 200 and b"Reason" in first.content
    again = moderator_client.post(
        QUEUE, {"action": "hide", "_selected_action": [str(video.pk)], "confirm_reason": "yes", "reason": ""}
    )
    assert again.status_code == 200 and b"This field is required" in again.content
    assert Video.objects.get(pk=video.pk).moderation == Moderation.VISIBLE
    assert not AuditEntry.objects.exists()


def test_bulk_hide_remove_and_restore_in_the_video_list(moderator_client):
    videos = [VideoFactory() for _ in range(3)]
    ids = [video.pk for video in videos]
    assert run_action(moderator_client, "/admin/videos/video/", "remove", ids, "illegal").status_code == 302
    assert set(Video.objects.filter(pk__in=ids).values_list("moderation", flat=True)) == {Moderation.REMOVED}
    assert run_action(moderator_client, "/admin/videos/video/", "restore", ids[:1], "appeal").status_code == 302
    assert Video.objects.get(pk=ids[0]).moderation == Moderation.VISIBLE
    assert AuditEntry.objects.filter(action=AuditAction.VIDEO_REMOVE).count() == 3


def test_moderator_removes_a_reported_comment_and_its_reports_are_resolved(moderator_client):
    comment = CommentFactory()
    Report.objects.create(comment=comment, reporter=UserFactory(), reason="harassment")
    queue = moderator_client.get(COMMENT_QUEUE)
    assert [item.pk for item in queue.context["cl"].result_list] == [comment.pk]
    response = run_action(moderator_client, COMMENT_QUEUE, "remove_comments", [comment.pk], "slur")
    assert response.status_code == 302
    assert Comment.objects.get(pk=comment.pk).state == CommentState.REMOVED
    assert Report.objects.get(comment=comment).status == ReportStatus.RESOLVED
    response = run_action(moderator_client, "/admin/activity/comment/", "restore_comments", [comment.pk], "appeal")
    assert Comment.objects.get(pk=comment.pk).state == CommentState.VISIBLE


def test_moderator_resolves_and_dismisses_reports_in_the_report_list(moderator_client):
    video = VideoFactory()
    first, second = reported(video, 2)
    run_action(moderator_client, "/admin/moderation/report/", "resolve_reports", [first.pk], "handled")
    run_action(moderator_client, "/admin/moderation/report/", "dismiss_reports", [second.pk], "unfounded")
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.status, second.status) == (ReportStatus.RESOLVED, ReportStatus.DISMISSED)
    assert Video.objects.get(pk=video.pk).moderation == Moderation.VISIBLE


def test_moderator_suspends_and_reinstates_a_user_but_not_a_staff_member(moderator_client):
    member, staff = UserFactory(), UserFactory(is_staff=True)
    response = run_action(moderator_client, "/admin/accounts/user/", "suspend", [member.pk, staff.pk], "spam bot")
    assert response.status_code == 302
    member.refresh_from_db(), staff.refresh_from_db()
    assert member.suspended_at is not None and staff.suspended_at is None
    run_action(moderator_client, "/admin/accounts/user/", "reinstate", [member.pk], "false positive")
    member.refresh_from_db()
    assert member.suspended_at is None


def test_moderator_can_view_users_but_not_change_passwords_or_edit_staff(moderator_client):
    staff = UserFactory(is_staff=True)
    assert moderator_client.get(f"/admin/accounts/user/{staff.pk}/change/").status_code == 200  # view only
    assert moderator_client.get(f"/admin/accounts/user/{staff.pk}/password/").status_code == 403
    response = moderator_client.post(
        f"/admin/accounts/user/{staff.pk}/change/", {"username": "pwned", "is_superuser": "on", "is_staff": "on"}
    )
    assert response.status_code == 403
    assert User.objects.get(pk=staff.pk).username != "pwned"
    assert moderator_client.get("/admin/accounts/user/add/").status_code == 403


def test_audit_log_is_visible_filterable_and_read_only(moderator, moderator_client):
    video = VideoFactory()
    run_action(moderator_client, "/admin/videos/video/", "hide", [video.pk], "reason one")
    listing = moderator_client.get("/admin/moderation/auditentry/", {"action__exact": "video_hide"})
    assert listing.status_code == 200 and b"reason one" in listing.content
    entry = AuditEntry.objects.get()
    change = f"/admin/moderation/auditentry/{entry.pk}/change/"
    assert moderator_client.get(change).status_code == 200
    assert moderator_client.post(change, {"reason": "edited"}).status_code == 403
    assert moderator_client.post(f"/admin/moderation/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.get().reason == "reason one"


def test_a_staff_user_outside_the_group_sees_no_moderation_actions(db):
    from tests.helpers.moderation import admin_client_for

    client = admin_client_for(UserFactory(is_staff=True))
    assert client.get(QUEUE).status_code == 403
    video = VideoFactory()
    assert (
        client.post("/admin/videos/video/", {"action": "hide", "_selected_action": [str(video.pk)]}).status_code == 403
    )


@pytest.fixture
def hundred_of_everything(db):
    users = UserFactory.create_batch(20)
    videos = [VideoFactory(owner=users[i % 20]) for i in range(100)]
    for i, video in enumerate(videos):
        Report.objects.create(video=video, reporter=users[(i + 1) % 20], reason="spam")
        Report.objects.create(video=video, reporter=users[(i + 2) % 20], reason="hate")
        comment = CommentFactory(video=video, author=users[(i + 3) % 20])
        Report.objects.create(comment=comment, reporter=users[(i + 4) % 20], reason="harassment")
        Like.objects.create(user=users[(i + 5) % 20], video=video)
        Favorite.objects.create(user=users[(i + 6) % 20], video=video)
        View.objects.create(viewer=users[(i + 7) % 20], video=video, watched_ms=1000)
    for i in range(20):
        FollowFactory(follower=users[i], followee=users[(i + 1) % 20])
    for i in range(100):
        AuditEntry.objects.create(action="video_hide", target_type="videos.video", target_id=str(videos[i].id))
        OutboxMessage.objects.create(task_name="feed.tasks.purge_video", args=[str(videos[i].id)])
    return videos


@pytest.mark.parametrize(
    "model",
    [User, Video, Comment, Report, Follow, Like, Favorite, View, AuditEntry, OutboxMessage, "reportedvideo",
     "reportedcomment"],
)  # fmt: skip
def test_changelists_of_100_rows_run_a_bounded_number_of_queries(
    model, hundred_of_everything, superuser_client, django_assert_max_num_queries
):
    if isinstance(model, str):
        url = reverse(f"admin:moderation_{model}_changelist")
    else:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    with django_assert_max_num_queries(12):
        response = superuser_client.get(url)
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 20


def test_queue_change_view_shows_the_poster_player_and_open_reports_read_only(moderator_client):
    video = VideoFactory()
    Report.objects.create(video=video, reporter=UserFactory(), reason="violence", details="fight at 0:03")
    page = moderator_client.get(f"{QUEUE}{video.pk}/change/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "<video" in body and f"originals/{video.owner_id}/{video.id}" in body
    assert "fight at 0:03" in body and "Violence" in body
    assert 'name="caption"' not in body  # nothing to edit here


def test_a_hidden_videos_admin_preview_points_at_its_quarantined_objects(moderator_client, moderator):
    from moderation.services import video_moderate

    video = VideoFactory()
    video_moderate(video=video, moderation=Moderation.HIDDEN, actor=moderator, reason="check")
    body = moderator_client.get(f"/admin/videos/video/{video.pk}/change/").content.decode()
    assert f"quarantine/{video.id}/processed/{video.id}/poster.jpg" in body
