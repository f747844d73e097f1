"""Take over ``Report``, ``AuditEntry`` and the report queue proxies, tables and rows included.

State only: the tables already exist (``activity_report`` from ``activity`` 0001,
``tiktok_auditentry`` from ``tiktok`` 0002) and keep their names, rows, indexes and
constraints. The old apps forget the models first (the migrations this one depends on),
so no two apps ever claim the same table in the migration state.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

STATE_OPERATIONS = [
    migrations.CreateModel(
        name="Report",
        fields=[
            ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
            ("reason", models.CharField(choices=[("spam", "Spam"), ("nudity", "Nudity or sexual content"), ("violence", "Violence"), ("harassment", "Harassment or bullying"), ("hate", "Hate speech"), ("misinformation", "Misinformation"), ("copyright", "Intellectual property"), ("other", "Other")], max_length=20)),
            ("details", models.CharField(blank=True, max_length=500)),
            ("status", models.CharField(choices=[("open", "Open"), ("resolved", "Resolved"), ("dismissed", "Dismissed")], default="open", max_length=10)),
            ("created_at", models.DateTimeField(auto_now_add=True)),
            ("resolved_at", models.DateTimeField(blank=True, null=True)),
            ("comment", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name="reports", to="activity.comment")),
            ("reporter", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="reports_made", to=settings.AUTH_USER_MODEL)),
            ("resolved_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="reports_resolved", to=settings.AUTH_USER_MODEL)),
            ("video", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name="reports", to="videos.video")),
        ],
        options={
            "db_table": "activity_report",
            "indexes": [models.Index(fields=["status", "-created_at"], name="report_status_created")],
            "constraints": [
                models.CheckConstraint(condition=models.Q(models.Q(("comment__isnull", True), ("video__isnull", False)), models.Q(("comment__isnull", False), ("video__isnull", True)), _connector="OR"), name="report_one_target"),
                models.UniqueConstraint(condition=models.Q(("status", "open"), ("video__isnull", False)), fields=("reporter", "video"), name="report_open_video_unique"),
                models.UniqueConstraint(condition=models.Q(("comment__isnull", False), ("status", "open")), fields=("reporter", "comment"), name="report_open_comment_unique"),
            ],
        },
    ),
    migrations.CreateModel(
        name="AuditEntry",
        fields=[
            ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
            ("created_at", models.DateTimeField(auto_now_add=True)),
            ("actor_username", models.CharField(blank=True, max_length=150)),
            ("action", models.CharField(choices=[("video_hide", "Hide video"), ("video_remove", "Remove video"), ("video_restore", "Restore video"), ("comment_remove", "Remove comment"), ("comment_restore", "Restore comment"), ("user_suspend", "Suspend user"), ("user_reinstate", "Reinstate user"), ("report_resolve", "Resolve report"), ("report_dismiss", "Dismiss report")], max_length=32)),
            ("target_type", models.CharField(max_length=64)),
            ("target_id", models.CharField(max_length=64)),
            ("target_label", models.CharField(blank=True, max_length=200)),
            ("reason", models.TextField(blank=True)),
            ("changes", models.JSONField(blank=True, default=dict)),
            ("actor", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="audit_entries", to=settings.AUTH_USER_MODEL)),
        ],
        options={
            "db_table": "tiktok_auditentry",
            "verbose_name": "audit entry",
            "verbose_name_plural": "audit entries",
            "indexes": [
                models.Index(fields=["-created_at", "-id"], name="audit_created"),
                models.Index(fields=["target_type", "target_id", "-created_at"], name="audit_target"),
                models.Index(fields=["actor", "-created_at"], name="audit_actor"),
            ],
        },
    ),
    migrations.CreateModel(
        name="ReportedComment",
        fields=[],
        options={
            "verbose_name": "reported comment",
            "verbose_name_plural": "report queue: comments",
            "proxy": True,
            "indexes": [],
            "constraints": [],
        },
        bases=("activity.comment",),
    ),
    migrations.CreateModel(
        name="ReportedVideo",
        fields=[],
        options={
            "verbose_name": "reported video",
            "verbose_name_plural": "report queue: videos",
            "proxy": True,
            "indexes": [],
            "constraints": [],
        },
        bases=("videos.video",),
    ),
]


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("activity", "0002_report_moved_to_moderation"),
        ("tiktok", "0003_audit_and_report_queues_moved_to_moderation"),
        ("videos", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.SeparateDatabaseAndState(state_operations=STATE_OPERATIONS, database_operations=[])]
