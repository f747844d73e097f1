"""The ``moderators`` group and its permissions (idempotent: safe to run again)."""

from django.db import migrations


def create_moderators_group(apps, schema_editor):
    from accounts.services import moderators_group_ensure

    moderators_group_ensure(apps=apps)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_user_suspend_permission"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("videos", "0001_initial"),
        ("activity", "0001_initial"),
        ("tiktok", "0002_audit_and_report_queues"),
    ]

    operations = [migrations.RunPython(create_moderators_group, migrations.RunPython.noop)]
