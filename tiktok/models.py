"""Project-wide tables: the transactional outbox, the moderation audit log, and the
proxies behind the admin's report queues."""

from django.conf import settings
from django.db import models

from activity.models import Comment
from videos.models import Video


class OutboxMessage(models.Model):
    """A task to enqueue, written in the same transaction as the change that needs it.

    After the commit it is published and deleted; if the broker is down it stays here
    and ``drain_outbox`` publishes it once the broker is back. So a committed write never
    loses the work it needs (fan-out, processing), and the request never fails for it.
    """

    task_name = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return f"{self.task_name}{tuple(self.args)}"


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

    Written by the services in the same transaction as the change (``tiktok.audit``);
    never edited. The target is kept as type, id and a label rather than a foreign key,
    so the entry outlives the object. ``actor`` is empty for automatic decisions (for
    example a video hidden after many reports); ``actor_username`` survives the
    actor's deletion.
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
