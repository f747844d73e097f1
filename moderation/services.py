"""Moderation writes: reports, moderator decisions, suspension, the audit log, the moderators role.

One moderator action is one transaction (after Mastodon's ``Admin::AccountAction``): it
changes the target through its own app's setter (``videos.services.video_set_moderation``,
``accounts.services.user_set_suspended``), closes the open reports it settles, writes its
audit entry, and queues the heavy follow-up after commit: one feed task per suspended
creator, not one per video. Lower apps never call in here; the admin and the report
endpoints do.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.apps import apps as global_apps
from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import user_set_suspended
from activity.counters import counter_add
from activity.models import Comment, CommentState
from moderation.models import AuditAction, AuditEntry, Report, ReportStatus
from tiktok.db_router import PRIMARY
from tiktok.exceptions import ApplicationError, NotFoundError, PermissionDeniedError
from tiktok.outbox import enqueue_on_commit
from videos.models import Moderation, Video
from videos.selectors import video_cards_invalidate, video_get_public
from videos.services import video_set_moderation

logger = logging.getLogger(__name__)

AUDIT_REASON_MAX_LENGTH = 2000
# Feed tasks that take all of one creator's videos out of feeds, or put them back.
CREATOR_WITHDRAWN_TASK = "feed.tasks.creator_withdrawn"
CREATOR_RESTORED_TASK = "feed.tasks.creator_restored"
REPORT_THRESHOLD_TASK = "moderation.tasks.video_report_threshold_check"

VIDEO_AUDIT_ACTIONS = {
    Moderation.HIDDEN: AuditAction.VIDEO_HIDE,
    Moderation.REMOVED: AuditAction.VIDEO_REMOVE,
    Moderation.VISIBLE: AuditAction.VIDEO_RESTORE,
}


# --- Audit ----------------------------------------------------------------------------


def audit_record(
    *, actor, action: AuditAction | str, target: models.Model, reason: str, changes: dict[str, Any] | None = None
) -> AuditEntry:
    """Record that ``actor`` (None: the system) did ``action`` to ``target`` because of ``reason``.

    Called inside the deciding service's transaction, so an entry exists exactly when
    the change it describes was committed.
    """
    if action not in AuditAction.values:
        raise ValueError(f"Unknown audit action {action!r}.")
    actor = actor if getattr(actor, "pk", None) is not None else None
    return AuditEntry.objects.create(
        actor=actor,
        actor_username=actor.get_username() if actor is not None else "",
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        target_label=str(target)[:200],
        reason=(reason or "").strip()[:AUDIT_REASON_MAX_LENGTH],
        changes=changes or {},
    )


def _reason_required(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("A reason is required.", fields={"reason": ["This field is required."]})
    return reason


# --- Reports --------------------------------------------------------------------------


@dataclass
class ReportResult:
    report: Report
    created: bool


def _report_create(*, reporter: User, target: dict, reason: str, details: str) -> ReportResult:
    existing = Report.objects.filter(reporter=reporter, status=ReportStatus.OPEN, **target).first()
    if existing is not None:
        return ReportResult(report=existing, created=False)
    try:
        with transaction.atomic(using=PRIMARY):
            report = Report.objects.create(reporter=reporter, reason=reason, details=details, **target)
    except IntegrityError:
        # A concurrent identical report won the race: return that one.
        existing = Report.objects.filter(reporter=reporter, status=ReportStatus.OPEN, **target).first()
        if existing is None:
            raise
        return ReportResult(report=existing, created=False)
    return ReportResult(report=report, created=True)


def video_report_create(*, reporter: User, video_id, reason: str, details: str = "") -> ReportResult:
    """Report a video; one open report per reporter and video (a repeat returns it).

    A new report also queues ``video_report_threshold_check`` (after commit), which hides
    the video once enough distinct users reported it.
    """
    with transaction.atomic(using=PRIMARY):
        video = video_get_public(video_id=video_id)
        result = _report_create(reporter=reporter, target={"video": video}, reason=reason, details=details)
        if result.created:
            enqueue_on_commit(REPORT_THRESHOLD_TASK, str(video.pk))
    return result


def comment_report_create(*, reporter: User, comment_id: int, reason: str, details: str = "") -> ReportResult:
    """Report a visible comment on a public video; one open report per reporter and comment."""
    with transaction.atomic(using=PRIMARY):
        comment = Comment.objects.filter(pk=comment_id, state=CommentState.VISIBLE).first()
        if comment is None:
            raise NotFoundError("No such comment.")
        video_get_public(video_id=comment.video_id)
        return _report_create(reporter=reporter, target={"comment": comment}, reason=reason, details=details)


def video_report_threshold_check(*, video_id) -> bool:
    """Hide a video reported by ``REPORT_AUTO_HIDE_THRESHOLD`` distinct users (open reports).

    Does nothing once a moderator decided (``moderation_final``) or when the video is
    already not visible. The hiding is the system's decision: audited without an actor,
    and not final. Returns True if it hid the video.
    """
    threshold = settings.REPORT_AUTO_HIDE_THRESHOLD
    with transaction.atomic(using=PRIMARY):
        video = Video.objects.select_for_update().filter(pk=video_id).first()
        if video is None or video.moderation_final or video.moderation != Moderation.VISIBLE:
            return False
        reporters = (
            Report.objects.filter(video_id=video.pk, status=ReportStatus.OPEN).values("reporter_id").distinct().count()
        )
        if reporters < threshold:
            return False
        reason = f"Automatic: reported by {reporters} users; pending review."
        video_moderate(video=video, moderation=Moderation.HIDDEN, actor=None, reason=reason)
        logger.info("video %s hidden automatically after reports from %s users", video.pk, reporters)
    return True


# --- Decisions on videos and comments -------------------------------------------------


def video_moderate(*, video: Video, moderation: str, actor: User | None, reason: str) -> Video:
    """Set a video's moderation state and audit it; feeds, cards and quarantine follow.

    A moderator's decision (``actor`` given) needs a reason and is final: reports no
    longer hide the video automatically. Every change and every moderator decision is
    audited, even one that leaves the state as it was.
    """
    if actor is not None:
        reason = _reason_required(reason)
    with transaction.atomic(using=PRIMARY):
        change = video_set_moderation(video_id=video.pk, moderation=moderation, final=actor is not None)
        decided = change.video
        if change.changed or actor is not None:
            audit_record(
                actor=actor,
                action=VIDEO_AUDIT_ACTIONS[moderation],
                target=decided,
                reason=reason,
                changes={"moderation": [change.previous, moderation], "final": decided.moderation_final},
            )
    video.moderation, video.moderation_final = decided.moderation, decided.moderation_final
    return decided


def comment_set_state(*, comment: Comment, state: str, actor: User | None, reason: str) -> Comment:
    """Remove or restore a comment (moderation); the video's comment count follows.

    Idempotent: setting the state a comment already has changes nothing and is not audited.
    """
    if state not in CommentState.values:
        raise ApplicationError(
            "Unknown comment state.", fields={"state": [f"One of {', '.join(CommentState.values)}."]}
        )
    reason = _reason_required(reason)
    with transaction.atomic(using=PRIMARY):
        locked = Comment.objects.select_for_update().filter(pk=comment.pk).first()
        if locked is None:
            raise NotFoundError("No such comment.")
        previous = locked.state
        if previous != state:
            locked.state = state
            locked.save(update_fields=["state"])
            delta = -1 if state == CommentState.REMOVED else 1
            counter_add(entity="video", object_id=locked.video_id, counter="comments", delta=delta)
            action = AuditAction.COMMENT_REMOVE if state == CommentState.REMOVED else AuditAction.COMMENT_RESTORE
            audit_record(actor=actor, action=action, target=locked, reason=reason, changes={"state": [previous, state]})
    comment.state = locked.state
    return locked


def _report_close(*, report: Report, status: str, actor: User | None, reason: str) -> Report:
    reason = _reason_required(reason)
    with transaction.atomic(using=PRIMARY):
        locked = Report.objects.select_for_update().filter(pk=report.pk).first()
        if locked is None:
            raise NotFoundError("No such report.")
        if locked.status == ReportStatus.OPEN:
            locked.status = status
            locked.resolved_at = timezone.now()
            locked.resolved_by = actor if getattr(actor, "pk", None) is not None else None
            locked.save(update_fields=["status", "resolved_at", "resolved_by"])
            action = AuditAction.REPORT_RESOLVE if status == ReportStatus.RESOLVED else AuditAction.REPORT_DISMISS
            target = {"video": str(locked.video_id)} if locked.video_id else {"comment": locked.comment_id}
            audit_record(
                actor=actor, action=action, target=locked, reason=reason, changes={"status": ["open", status], **target}
            )
    report.status, report.resolved_at, report.resolved_by_id = locked.status, locked.resolved_at, locked.resolved_by_id
    return locked


def report_resolve(*, report: Report, actor: User | None, reason: str) -> Report:
    """Close an open report as acted upon. Never changes the reported object itself."""
    return _report_close(report=report, status=ReportStatus.RESOLVED, actor=actor, reason=reason)


def report_dismiss(*, report: Report, actor: User | None, reason: str) -> Report:
    """Close an open report as unfounded. Never changes the reported object itself."""
    return _report_close(report=report, status=ReportStatus.DISMISSED, actor=actor, reason=reason)


def reports_close_for_target(*, video=None, comment=None, resolve: bool, actor: User | None, reason: str) -> int:
    """Resolve (``resolve``) or dismiss every open report of one video or comment; returns how many."""
    if (video is None) == (comment is None):
        raise ValueError("Give exactly one of video and comment.")
    target = {"video_id": video.pk} if video is not None else {"comment_id": comment.pk}
    close = report_resolve if resolve else report_dismiss
    with transaction.atomic(using=PRIMARY):
        reports = list(Report.objects.filter(status=ReportStatus.OPEN, **target).order_by("id"))
        for report in reports:
            close(report=report, actor=actor, reason=reason)
    return len(reports)


def video_report_decide(*, video: Video, moderation: str, actor: User, reason: str) -> Video:
    """A moderator's decision on a reported video, in one transaction.

    Sets the video's moderation (final: reports no longer hide it automatically) and
    closes its open reports: resolved when the video is taken down, dismissed when it
    stays or becomes visible.
    """
    with transaction.atomic(using=PRIMARY):
        decided = video_moderate(video=video, moderation=moderation, actor=actor, reason=reason)
        reports_close_for_target(video=decided, resolve=moderation != Moderation.VISIBLE, actor=actor, reason=reason)
    return decided


def comment_report_decide(*, comment: Comment, state: str, actor: User, reason: str) -> Comment:
    """A moderator's decision on a reported comment: set its state, close its open reports."""
    with transaction.atomic(using=PRIMARY):
        decided = comment_set_state(comment=comment, state=state, actor=actor, reason=reason)
        reports_close_for_target(comment=decided, resolve=state == CommentState.REMOVED, actor=actor, reason=reason)
    return decided


# --- Suspension -----------------------------------------------------------------------


def _locked_user(user: User) -> User:
    locked = User.objects.select_for_update().filter(pk=user.pk).first()
    if locked is None:
        raise NotFoundError("No such user.")
    return locked


def _creator_videos_follow(*, user_id: int, suspended: bool) -> None:
    """Inside the suspension transaction: the creator's videos leave feeds or return.

    Reads drop (or show) them at once: the cached cards carry ``creator_suspended`` and
    are invalidated here. The Redis feeds are purged or refilled after commit by one feed
    task for the creator, however many videos they have.
    """
    video_cards_invalidate(list(Video.objects.filter(owner_id=user_id).values_list("id", flat=True)))
    enqueue_on_commit(CREATOR_WITHDRAWN_TASK if suspended else CREATOR_RESTORED_TASK, user_id)


def user_suspend(*, user: User, actor: User | None, reason: str) -> User:
    """Suspend ``user``: no login, no writes, their videos leave feeds. Idempotent.

    Staff accounts may only be suspended by a superuser, and nobody suspends themselves.
    """
    reason = _reason_required(reason)
    if actor is not None and actor.pk == user.pk:
        raise PermissionDeniedError("You cannot suspend yourself.")
    if (user.is_staff or user.is_superuser) and not (actor is not None and actor.is_superuser):
        raise PermissionDeniedError("Only a superuser can suspend a staff account.")
    with transaction.atomic(using=PRIMARY):
        locked = _locked_user(user)
        if locked.suspended_at is None:
            user_set_suspended(user=locked, suspended=True, reason=reason)
            _creator_videos_follow(user_id=locked.pk, suspended=True)
            audit_record(actor=actor, action=AuditAction.USER_SUSPEND, target=locked, reason=reason)
    user.suspended_at, user.suspension_reason = locked.suspended_at, locked.suspension_reason
    return locked


def user_reinstate(*, user: User, actor: User | None, reason: str) -> User:
    """Lift a suspension: the user may log in again and their videos return to feeds."""
    reason = _reason_required(reason)
    with transaction.atomic(using=PRIMARY):
        locked = _locked_user(user)
        if locked.suspended_at is not None:
            previous = {"suspended_at": locked.suspended_at.isoformat(), "reason": locked.suspension_reason}
            user_set_suspended(user=locked, suspended=False)
            _creator_videos_follow(user_id=locked.pk, suspended=False)
            audit_record(actor=actor, action=AuditAction.USER_REINSTATE, target=locked, reason=reason, changes=previous)
    user.suspended_at, user.suspension_reason = locked.suspended_at, locked.suspension_reason
    return locked


# --- The moderators role --------------------------------------------------------------

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
