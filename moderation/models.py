"""Moderation data: reports, the audit log, and the proxies behind the admin's report queues.

The tables predate this app and keep their names (``activity_report``,
``tiktok_auditentry``): the models moved here by state only (see ``migrations/0001``).
"""

from django.conf import settings
from django.db import models

from activity.models import Comment
from videos.models import Video


class ReportReason(models.TextChoices):
    SPAM = "spam", "Spam"
    NUDITY = "nudity", "Nudity or sexual content"
    VIOLENCE = "violence", "Violence"
    HARASSMENT = "harassment", "Harassment or bullying"
    HATE = "hate", "Hate speech"
    MISINFORMATION = "misinformation", "Misinformation"
    COPYRIGHT = "copyright", "Intellectual property"
    OTHER = "other", "Other"


class ReportStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"
    DISMISSED = "dismissed", "Dismissed"


class Report(models.Model):
    """A user's report of one video or one comment; at most one open per reporter and target."""

    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reports_made")
    video = models.ForeignKey("videos.Video", null=True, blank=True, on_delete=models.CASCADE, related_name="reports")
    comment = models.ForeignKey(
        "activity.Comment", null=True, blank=True, on_delete=models.CASCADE, related_name="reports"
    )
    reason = models.CharField(max_length=20, choices=ReportReason.choices)
    details = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=ReportStatus.choices, default=ReportStatus.OPEN)
    # How much this report counts toward hiding its video automatically (0 to 1), fixed
    # when it is made from the reporter's age and standing (``moderation.services``).
    weight = models.DecimalField(max_digits=4, decimal_places=3, default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports_resolved"
    )

    class Meta:
        db_table = "activity_report"
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(video__isnull=False, comment__isnull=True))
                | (models.Q(video__isnull=True, comment__isnull=False)),
                name="report_one_target",
            ),
            models.UniqueConstraint(
                fields=["reporter", "video"],
                condition=models.Q(status="open", video__isnull=False),
                name="report_open_video_unique",
            ),
            models.UniqueConstraint(
                fields=["reporter", "comment"],
                condition=models.Q(status="open", comment__isnull=False),
                name="report_open_comment_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="report_status_created"),
            # The per-target cap counts one video's reports of the last hour.
            models.Index(fields=["video", "created_at"], name="report_video_created"),
        ]

    def __str__(self) -> str:
        return f"report {self.pk} ({self.reason}, {self.status})"


class AuditAction(models.TextChoices):
    VIDEO_HIDE = "video_hide", "Hide video"
    VIDEO_REMOVE = "video_remove", "Remove video"
    VIDEO_RESTORE = "video_restore", "Restore video"
    COMMENT_REMOVE = "comment_remove", "Remove comment"
    COMMENT_RESTORE = "comment_restore", "Restore comment"
    USER_SUSPEND = "user_suspend", "Suspend user"
    USER_REINSTATE = "user_reinstate", "Reinstate user"
    REPORT_RESOLVE = "report_resolve", "Resolve report"
    REPORT_DISMISS = "report_dismiss", "Dismiss report"


class AuditEntry(models.Model):
    """One moderation decision: who did what to which object, when and why.

    Written by the moderation services in the same transaction as the change
    (``moderation.services.audit_record``); never edited. The target is kept as type,
    id and a label rather than a foreign key, so the entry outlives the object.
    ``actor`` is empty for automatic decisions (for example a video hidden after many
    reports); ``actor_username`` survives the actor's deletion.
    """

    created_at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_entries"
    )
    actor_username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=32, choices=AuditAction.choices)
    target_type = models.CharField(max_length=64)  # the model's label, e.g. "videos.video"
    target_id = models.CharField(max_length=64)
    target_label = models.CharField(max_length=200, blank=True)
    reason = models.TextField(blank=True)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "tiktok_auditentry"
        verbose_name = "audit entry"
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="audit_created"),
            models.Index(fields=["target_type", "target_id", "-created_at"], name="audit_target"),
            models.Index(fields=["actor", "-created_at"], name="audit_actor"),
        ]

    def __str__(self) -> str:
        who = self.actor_username or "system"
        return f"{who}: {self.get_action_display()} {self.target_type}:{self.target_id}"


class ReportedVideo(Video):
    """The report queue for videos: videos with open reports (admin only)."""

    class Meta:
        proxy = True
        verbose_name = "reported video"
        verbose_name_plural = "report queue: videos"


class ReportedComment(Comment):
    """The report queue for comments: comments with open reports (admin only)."""

    class Meta:
        proxy = True
        verbose_name = "reported comment"
        verbose_name_plural = "report queue: comments"
