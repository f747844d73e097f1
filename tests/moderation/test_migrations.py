"""Moving reports, the audit log and the report queues into ``moderation`` keeps every row.

The test migrates back to before the move, writes rows and a permission grant through
the historical models, migrates forward again and reads them through
``moderation.models``. It leaves the database migrated to the latest state.
"""

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from accounts.models import User
from moderation.models import AuditEntry, Report, ReportStatus
from tests.factories import UserFactory, VideoFactory

# The last migrations of the old apps before their models moved (state only) to moderation.
BEFORE_MOVE = [("activity", "0001_initial"), ("tiktok", "0002_audit_and_report_queues")]


def migrate(targets=None):
    """Migrate the test database to ``targets`` (None: the latest); returns the migrated state.

    The state is rebuilt from the applied migrations: the one ``migrate()`` returns after
    unapplying migrations of several apps can miss models of the remaining ones.
    """
    executor = MigrationExecutor(connection)
    executor.migrate(targets or executor.loader.graph.leaf_nodes())
    ContentType.objects.clear_cache()
    loader = MigrationLoader(connection)
    return loader.project_state(list(loader.applied_migrations))


def _write_before_the_move(apps) -> dict:
    """Rows and a permission grant as they were written before the move (historical models)."""
    user_model = apps.get_model("accounts", "User")
    reporter = user_model.objects.create(username="reporter", password="!")
    moderator = user_model.objects.create(username="old-moderator", password="!", is_staff=True)
    video = apps.get_model("videos", "Video").objects.create(
        owner=reporter, content_type="video/mp4", size_bytes=1, upload_expires_at=timezone.now(), original_key="k"
    )
    comment = apps.get_model("activity", "Comment").objects.create(video=video, author=reporter, text="rude")
    report_model = apps.get_model("activity", "Report")
    video_report = report_model.objects.create(reporter=reporter, video=video, reason="spam", details="ads")
    comment_report = report_model.objects.create(
        reporter=moderator, comment=comment, reason="harassment", status="resolved", resolved_by=moderator
    )
    entry = apps.get_model("tiktok", "AuditEntry").objects.create(
        actor=moderator,
        actor_username="old-moderator",
        action="report_resolve",
        target_type="activity.report",
        target_id=str(comment_report.pk),
        reason="handled",
        changes={"status": ["open", "resolved"]},
    )
    view_report = apps.get_model("auth", "Permission").objects.get(
        content_type__app_label="activity", content_type__model="report", codename="view_report"
    )
    moderator.user_permissions.add(view_report)
    return {
        "video": video.pk,
        "comment": comment.pk,
        "video_report": video_report.pk,
        "comment_report": comment_report.pk,
        "entry": entry.pk,
        "moderator": moderator.pk,
    }


@pytest.mark.django_db(transaction=True)
def test_reports_audit_entries_and_permissions_survive_the_move_to_moderation():
    try:
        old = _write_before_the_move(migrate(BEFORE_MOVE).apps)
        migrate()
    finally:
        migrate()  # whatever happened, later tests get the latest schema

    video_report = Report.objects.get(pk=old["video_report"])
    assert (video_report.video_id, video_report.reason, video_report.details, video_report.status) == (
        old["video"], "spam", "ads", ReportStatus.OPEN,
    )  # fmt: skip
    comment_report = Report.objects.select_related("resolved_by").get(pk=old["comment_report"])
    assert (comment_report.comment_id, comment_report.resolved_by.pk) == (old["comment"], old["moderator"])
    entry = AuditEntry.objects.get(pk=old["entry"])
    assert (entry.actor_id, entry.action, entry.reason, entry.changes) == (
        old["moderator"], "report_resolve", "handled", {"status": ["open", "resolved"]},
    )  # fmt: skip
    # The table's sequence came along: new rows follow the old ones.
    newer = Report.objects.create(reporter=UserFactory(), video=VideoFactory(), reason="hate")
    assert newer.pk > max(old["video_report"], old["comment_report"])

    # A grant on the old content type is now the same permission under moderation.
    moderator = User.objects.get(pk=old["moderator"])
    assert moderator.has_perm("moderation.view_report") and not moderator.has_perm("activity.view_report")
    assert not ContentType.objects.filter(app_label__in=["activity", "tiktok"], model="report").exists()
    granted = set(Group.objects.get(name="moderators").permissions.values_list("content_type__app_label", "codename"))
    assert {("moderation", "view_report"), ("moderation", "change_report"), ("moderation", "view_auditentry"),
            ("moderation", "view_reportedvideo"), ("moderation", "view_reportedcomment")} <= granted  # fmt: skip
