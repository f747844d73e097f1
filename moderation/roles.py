"""The moderators role: a staff group holding exactly the permissions the moderation
workflow in the admin needs (kept in step with the models by a data migration)."""

from __future__ import annotations

from django.apps import apps as global_apps
from django.db import transaction

from accounts.models import User
from tiktok.db_router import PRIMARY

MODERATORS_GROUP = "moderators"
# (app_label, model, codename, name): exactly what the moderation workflow in the admin
# needs. No change_user: a moderator cannot edit accounts, passwords or other staff.
MODERATOR_PERMISSIONS = [
    ("accounts", "user", "view_user", "Can view user"),
    ("accounts", "user", "suspend_user", "Can suspend and reinstate users"),
    ("videos", "video", "view_video", "Can view video"),
    ("videos", "video", "moderate_video", "Can hide, remove and restore videos"),
    ("activity", "comment", "view_comment", "Can view comment"),
    ("activity", "comment", "change_comment", "Can change comment"),
    ("moderation", "report", "view_report", "Can view report"),
    ("moderation", "report", "change_report", "Can change report"),
    ("moderation", "reportedvideo", "view_reportedvideo", "Can view reported video"),
    ("moderation", "reportedcomment", "view_reportedcomment", "Can view reported comment"),
    ("moderation", "auditentry", "view_auditentry", "Can view audit entry"),
]


def moderators_group_ensure(*, apps=global_apps):
    """Create the ``moderators`` group with exactly ``MODERATOR_PERMISSIONS`` (idempotent).

    Creates missing permissions itself (``moderate_video`` is not declared on a model,
    and default permissions only appear after the first ``migrate``), so it runs both
    from a data migration (with historical ``apps``) and at run time.
    """
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
    return group


def moderator_ensure(*, username: str, password: str) -> User:
    """A staff account in the moderators group (created with ``password`` if missing)."""
    with transaction.atomic(using=PRIMARY):
        group = moderators_group_ensure()
        user = User.objects.filter(username__iexact=username).first()
        if user is None:
            user = User.objects.create_user(username=username, password=password, is_staff=True)
        elif not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        user.groups.add(group)
    return user
