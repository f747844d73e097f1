"""Permissions of the moved models follow them: same codenames, content type ``moderation``.

The content types ``activity.report``, ``tiktok.auditentry``, ``tiktok.reportedvideo``
and ``tiktok.reportedcomment`` are relabelled ``moderation``, so every group and user
keeps the permissions it had (and the admin's history keeps its links). Then the
``moderators`` group is given its current permissions again. Reversible.
"""

from django.db import migrations

MOVED = [("activity", "report"), ("tiktok", "auditentry"), ("tiktok", "reportedvideo"), ("tiktok", "reportedcomment")]


def _relabel(apps, *, forward: bool) -> None:
    content_type_model = apps.get_model("contenttypes", "ContentType")
    permission_model = apps.get_model("auth", "Permission")
    for old_label, model in MOVED:
        source, target = (old_label, "moderation") if forward else ("moderation", old_label)
        moving = content_type_model.objects.filter(app_label=source, model=model).first()
        if moving is None:
            continue
        existing = content_type_model.objects.filter(app_label=target, model=model).first()
        if existing is None:
            moving.app_label = target
            moving.save(update_fields=["app_label"])
            continue
        # Both exist (post_migrate already created the target): carry the grants over.
        for permission in permission_model.objects.filter(content_type=moving):
            carried, _ = permission_model.objects.get_or_create(
                content_type=existing, codename=permission.codename, defaults={"name": permission.name}
            )
            for group in permission.group_set.all():
                group.permissions.add(carried)
            for user in permission.user_set.all():
                user.user_permissions.add(carried)
    content_type_model.objects.clear_cache()


def forwards(apps, schema_editor):
    from moderation.roles import moderators_group_ensure

    _relabel(apps, forward=True)
    moderators_group_ensure(apps=apps)


def backwards(apps, schema_editor):
    _relabel(apps, forward=False)


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0001_initial"),
        ("accounts", "0003_moderators_group"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
