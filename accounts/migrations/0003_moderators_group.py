"""The ``moderators`` group and its permissions (idempotent: safe to run again).

The permission list is frozen as it was when this migration was written (the report
and audit models then lived in ``activity`` and ``tiktok``); ``moderation``'s
migrations move those permissions and keep the group up to date.
"""

from django.db import migrations

MODERATORS_GROUP = "moderators"
MODERATOR_PERMISSIONS = [
    ("accounts", "user", "view_user", "Can view user"),
    ("accounts", "user", "suspend_user", "Can suspend and reinstate users"),
    ("videos", "video", "view_video", "Can view video"),
    ("videos", "video", "moderate_video", "Can hide, remove and restore videos"),
    ("activity", "comment", "view_comment", "Can view comment"),
    ("activity", "comment", "change_comment", "Can change comment"),
    ("activity", "report", "view_report", "Can view report"),
    ("activity", "report", "change_report", "Can change report"),
    ("tiktok", "reportedvideo", "view_reportedvideo", "Can view reported video"),
    ("tiktok", "reportedcomment", "view_reportedcomment", "Can view reported comment"),
    ("tiktok", "auditentry", "view_auditentry", "Can view audit entry"),
]


def create_moderators_group(apps, schema_editor):
    content_type_model = apps.get_model("contenttypes", "ContentType")
    permission_model = apps.get_model("auth", "Permission")
    group_model = apps.get_model("auth", "Group")
    permissions = []
    for app_label, model, codename, name in MODERATOR_PERMISSIONS:
        content_type, _ = content_type_model.objects.get_or_create(app_label=app_label, model=model)
        permission, _ = permission_model.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )
        permissions.append(permission)
    group, _ = group_model.objects.get_or_create(name=MODERATORS_GROUP)
    group.permissions.set(permissions)


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
