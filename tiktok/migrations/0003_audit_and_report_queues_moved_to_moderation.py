"""``AuditEntry`` and the report queue proxies moved to the ``moderation`` app.

State only: the table ``tiktok_auditentry`` stays as it is, and ``moderation``'s first
migration takes the models over (the audit log with that ``db_table``).
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("tiktok", "0002_audit_and_report_queues"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="AuditEntry"),
                migrations.DeleteModel(name="ReportedComment"),
                migrations.DeleteModel(name="ReportedVideo"),
            ],
            database_operations=[],
        ),
    ]
