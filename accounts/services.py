"""Writes for accounts: registration, login tokens, profile changes, suspension, roles."""

from __future__ import annotations

from django.apps import apps as global_apps
from django.conf import settings
from django.contrib.auth import authenticate, password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.models import User
from tiktok import db_router
from tiktok.exceptions import ApplicationError, NotFoundError, PermissionDeniedError

LOGIN_FAILURES_KEY = "login-failures:{kind}:{ident}"


class LoginLockedError(ApplicationError):
    status_code = 429
    code = "login_locked"

    def __init__(self, retry_after: int):
        super().__init__(f"Too many failed logins; try again in {retry_after} seconds.")
        self.retry_after = retry_after


def user_create(*, username: str, password: str, email: str = "") -> User:
    """Create a user; usernames are unique whatever their case."""
    candidate = User(username=username, email=email)
    try:
        password_validation.validate_password(password, user=candidate)
    except DjangoValidationError as exc:
        raise ApplicationError("The password is too weak.", fields={"password": list(exc.messages)}) from exc
    with db_router.use_primary():
        taken = User.objects.filter(username__iexact=username).exists()
    if taken:
        raise ApplicationError("That username is taken.", code="username_taken", fields={"username": ["Taken."]})
    try:
        with transaction.atomic():
            return User.objects.create_user(username=username, password=password, email=email)
    except IntegrityError as exc:  # two registrations raced for the same name
        raise ApplicationError(
            "That username is taken.", code="username_taken", fields={"username": ["Taken."]}
        ) from exc


def _failure_keys(username: str, address: str) -> list[str]:
    return [
        LOGIN_FAILURES_KEY.format(kind="user", ident=username.lower()),
        LOGIN_FAILURES_KEY.format(kind="ip", ident=address),
    ]


def _durable():
    from django.core.cache import caches

    return caches["durable"]


def user_login(*, username: str, password: str, address: str) -> str:
    """Check the password and return the user's API token (one token per user)."""
    keys = _failure_keys(username, address)
    limit = settings.LOGIN_FAILURE_LIMIT
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    cache = _durable()
    counts = cache.get_many(keys)
    if any(int(count) >= limit for count in counts.values()):
        ttl = max(int(cache.ttl(key) or 0) for key in keys)
        raise LoginLockedError(retry_after=max(ttl, 1))

    # The account may have been created a moment ago: check it on the primary.
    with db_router.use_primary():
        user = authenticate(username=username, password=password)
    if user is None:
        for key in keys:
            cache.add(key, 0, timeout=window)
            cache.incr(key)
        raise ApplicationError("Wrong username or password.", code="invalid_credentials", status_code=401)
    if user.suspended_at is not None:
        raise ApplicationError("This account is suspended.", code="account_suspended", status_code=403)
    cache.delete_many(keys)
    token, _ = Token.objects.get_or_create(user=user)
    return token.key


def user_logout(*, user: User) -> None:
    """Revoke the user's token."""
    Token.objects.filter(user=user).delete()


def user_update_profile(*, user: User, display_name: str | None = None, bio: str | None = None) -> User:
    fields = []
    if display_name is not None:
        user.display_name = display_name
        fields.append("display_name")
    if bio is not None:
        user.bio = bio
        fields.append("bio")
    if fields:
        user.save(update_fields=fields)
    return user


# --- Moderation: suspension -----------------------------------------------------------

SUSPENSION_REASON_MAX_LENGTH = 300


def _user_videos_follow(*, user_id: int, suspended: bool) -> None:
    """Inside the suspension transaction: the user's videos leave feeds or return.

    Reads drop them at once (the cached cards carry ``creator_suspended`` and are
    invalidated here); the Redis feeds are purged or refilled by feed tasks after commit.
    """
    from feed import services as feed_services
    from videos.models import Moderation, Video, VideoStatus
    from videos.selectors import video_cards_invalidate

    videos = list(Video.objects.filter(owner_id=user_id).values_list("id", "status", "moderation", "published_at"))
    video_cards_invalidate([video_id for video_id, *_ in videos])
    for video_id, status, moderation, published_at in videos:
        if status != VideoStatus.READY or moderation != Moderation.VISIBLE or published_at is None:
            continue  # not in any feed, and not to be put back in one
        if suspended:
            feed_services.video_withdrawn(video_id=video_id, owner_id=user_id)
        else:
            feed_services.video_published(video_id=video_id)


def _locked_user(user: User) -> User:
    locked = User.objects.select_for_update().filter(pk=user.pk).first()
    if locked is None:
        raise NotFoundError("No such user.")
    return locked


def user_suspend(*, user: User, actor: User | None, reason: str) -> User:
    """Suspend ``user``: no login, no writes, their videos leave feeds. Idempotent.

    Staff accounts may only be suspended by a superuser, and nobody suspends themselves.
    """
    from tiktok.audit import audit_record
    from tiktok.models import AuditAction

    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("A reason is required.", fields={"reason": ["This field is required."]})
    if actor is not None and actor.pk == user.pk:
        raise PermissionDeniedError("You cannot suspend yourself.")
    if (user.is_staff or user.is_superuser) and not (actor is not None and actor.is_superuser):
        raise PermissionDeniedError("Only a superuser can suspend a staff account.")
    with transaction.atomic():
        locked = _locked_user(user)
        if locked.suspended_at is None:
            locked.suspended_at = timezone.now()
            locked.suspension_reason = reason[:SUSPENSION_REASON_MAX_LENGTH]
            locked.save(update_fields=["suspended_at", "suspension_reason"])
            # Existing API tokens stop working at once (authentication refuses them too).
            Token.objects.filter(user_id=locked.pk).delete()
            _user_videos_follow(user_id=locked.pk, suspended=True)
            audit_record(actor=actor, action=AuditAction.USER_SUSPEND, target=locked, reason=reason)
    user.suspended_at, user.suspension_reason = locked.suspended_at, locked.suspension_reason
    return locked


def user_reinstate(*, user: User, actor: User | None, reason: str) -> User:
    """Lift a suspension: the user may log in again and their videos return to feeds."""
    from tiktok.audit import audit_record
    from tiktok.models import AuditAction

    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("A reason is required.", fields={"reason": ["This field is required."]})
    with transaction.atomic():
        locked = _locked_user(user)
        if locked.suspended_at is not None:
            previous = {"suspended_at": locked.suspended_at.isoformat(), "reason": locked.suspension_reason}
            locked.suspended_at = None
            locked.suspension_reason = ""
            locked.save(update_fields=["suspended_at", "suspension_reason"])
            _user_videos_follow(user_id=locked.pk, suspended=False)
            audit_record(actor=actor, action=AuditAction.USER_REINSTATE, target=locked, reason=reason, changes=previous)
    user.suspended_at, user.suspension_reason = locked.suspended_at, locked.suspension_reason
    return locked


# --- Roles ----------------------------------------------------------------------------

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
    ("activity", "report", "view_report", "Can view report"),
    ("activity", "report", "change_report", "Can change report"),
    ("tiktok", "reportedvideo", "view_reportedvideo", "Can view reported video"),
    ("tiktok", "reportedcomment", "view_reportedcomment", "Can view reported comment"),
    ("tiktok", "auditentry", "view_auditentry", "Can view audit entry"),
]


def moderators_group_ensure(*, apps=global_apps):
    """Create the ``moderators`` group with exactly ``MODERATOR_PERMISSIONS`` (idempotent).

    Creates missing permissions itself (``moderate_video`` is not declared on a model,
    and default permissions only appear after the first ``migrate``), so it runs both
    from the data migration (with historical ``apps``) and at run time.
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
    with transaction.atomic():
        group = moderators_group_ensure()
        user = User.objects.filter(username__iexact=username).first()
        if user is None:
            user = User.objects.create_user(username=username, password=password, is_staff=True)
        elif not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        user.groups.add(group)
    return user
