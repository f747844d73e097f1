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

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from accounts.models import User
from accounts.services import user_set_suspended
from activity.engagement.counters import counter_add
from activity.models import Comment, CommentState
from moderation.models import AuditAction, AuditEntry, Report, ReportStatus
from moderation.weights import NO_WEIGHT, report_weight, target_over_hourly_cap
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
# Quarantines a suspended creator's media (or restores it): one task per user.
OWNER_MEDIA_SYNC_TASK = "videos.tasks.owner_media_sync"
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
    # Past the per-target cap a report is still recorded (moderators see the volume and
    # the target stays in the queue) but no longer counts toward automatic hiding.
    weight = NO_WEIGHT if target_over_hourly_cap(target) else report_weight(reporter=reporter)
    try:
        with transaction.atomic(using=PRIMARY):
            report = Report.objects.create(reporter=reporter, reason=reason, details=details, weight=weight, **target)
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
    the video once the weights of its open reports add up to the threshold.
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
    """Hide a video whose open reports weigh ``REPORT_AUTO_HIDE_THRESHOLD`` or more in total.

    Each report weighs 0 to 1 (``moderation.weights``): brand-new or idle accounts alone never
    hide a video, however many they are. Does nothing once a moderator decided
    (``moderation_final``) or when the video is already not visible. The hiding is the
    system's decision: audited without an actor, and not final; the open reports stay
    open, so the video heads the admin's report queue for a moderator to decide.
    Returns True if it hid the video.
    """
    threshold = settings.REPORT_AUTO_HIDE_THRESHOLD
    with transaction.atomic(using=PRIMARY):
        video = Video.objects.select_for_update().filter(pk=video_id).first()
        if video is None or video.moderation_final or video.moderation != Moderation.VISIBLE:
            return False
        totals = Report.objects.filter(video_id=video.pk, status=ReportStatus.OPEN).aggregate(
            weight=Sum("weight"), reporters=Count("reporter_id", distinct=True)
        )
        weight, reporters = totals["weight"] or NO_WEIGHT, totals["reporters"]
        if weight < threshold:
            return False
        reason = f"Automatic: reported by {reporters} users (weight {weight} of {threshold}); pending review."
        video_moderate(video=video, moderation=Moderation.HIDDEN, actor=None, reason=reason)
        logger.info("video %s hidden automatically: %s reporters, weight %s", video.pk, reporters, weight)
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
    task for the creator, however many videos they have; their media is quarantined (or
    restored) by one media task, as a takedown does for one video.
    """
    video_cards_invalidate(list(Video.objects.filter(owner_id=user_id).values_list("id", flat=True)))
    enqueue_on_commit(CREATOR_WITHDRAWN_TASK if suspended else CREATOR_RESTORED_TASK, user_id)
    enqueue_on_commit(OWNER_MEDIA_SYNC_TASK, user_id)


def _suspension_allowed(*, user: User, actor: User | None, verb: str) -> None:
    """Nobody suspends or reinstates themselves; only a superuser does it to staff.

    Checked on the primary's rows: a staff flag granted a moment ago counts, and an
    actor suspended a moment ago (whose request raced the suspension) is refused.
    """
    if actor is not None and actor.pk == user.pk:
        raise PermissionDeniedError(f"You cannot {verb} yourself.")
    current = User.objects.filter(pk=getattr(actor, "pk", None)).values("is_superuser", "suspended_at").first()
    if actor is not None and (current is None or current["suspended_at"] is not None):
        raise PermissionDeniedError("Your account is suspended.")
    if (user.is_staff or user.is_superuser) and not (current and current["is_superuser"]):
        raise PermissionDeniedError(f"Only a superuser can {verb} a staff account.")


def user_suspend(*, user: User, actor: User | None, reason: str) -> User:
    """Suspend ``user``: no login, no writes, every session and token ended, their videos
    leave feeds. Idempotent.

    Staff accounts may only be suspended by a superuser, and nobody suspends themselves.
    """
    reason = _reason_required(reason)
    with transaction.atomic(using=PRIMARY):
        locked = _locked_user(user)
        _suspension_allowed(user=locked, actor=actor, verb="suspend")
        if locked.suspended_at is None:
            user_set_suspended(user=locked, suspended=True, reason=reason)
            _creator_videos_follow(user_id=locked.pk, suspended=True)
            audit_record(actor=actor, action=AuditAction.USER_SUSPEND, target=locked, reason=reason)
    user.suspended_at, user.suspension_reason = locked.suspended_at, locked.suspension_reason
    return locked


def user_reinstate(*, user: User, actor: User | None, reason: str) -> User:
    """Lift a suspension: the user may log in again and their videos return to feeds.

    Nobody reinstates themselves, and only a superuser reinstates a staff account.
    """
    reason = _reason_required(reason)
    with transaction.atomic(using=PRIMARY):
        locked = _locked_user(user)
        _suspension_allowed(user=locked, actor=actor, verb="reinstate")
        if locked.suspended_at is not None:
            previous = {"suspended_at": locked.suspended_at.isoformat(), "reason": locked.suspension_reason}
            user_set_suspended(user=locked, suspended=False)
            _creator_videos_follow(user_id=locked.pk, suspended=False)
            audit_record(actor=actor, action=AuditAction.USER_REINSTATE, target=locked, reason=reason, changes=previous)
    user.suspended_at, user.suspension_reason = locked.suspended_at, locked.suspension_reason
    return locked
