"""Writes for activity: follows, likes, favorites, comments, reports, views.

Every relation write is idempotent: a unique constraint plus ``INSERT ... ON CONFLICT
DO NOTHING`` make a repeated request a no-op, and only a real change (a row inserted
or deleted) moves a counter or notifies the feed. Counters are never updated here:
``activity.counters.counter_add`` queues a delta after commit (see that module).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connections, transaction
from django.db.models import Model
from django.utils import timezone
from django_redis import get_redis_connection

from accounts.models import User
from activity.counters import counter_add
from activity.models import Comment, CommentState, Favorite, Follow, Like, Report, ReportStatus, View
from tiktok.db_router import PRIMARY
from tiktok.exceptions import ApplicationError, NotFoundError, PermissionDeniedError
from tiktok.outbox import enqueue_on_commit
from videos.models import Moderation, Video

logger = logging.getLogger(__name__)

# Set (NX, with a TTL) when a viewer's view of a video is recorded: later views of the
# same video by the same viewer inside the window are not recorded again.
VIEW_DEDUPE_KEY = "views:seen:{viewer_id}:{video_id}"
VIEW_DEDUPE_SECONDS = 3600
VIEW_MAX_WATCHED_MS = 10 * 60 * 1000


def _insert_ignoring_conflict(model: type[Model], **values) -> bool:
    """``INSERT ... ON CONFLICT DO NOTHING``; True if a row was really inserted.

    ``bulk_create(ignore_conflicts=True)`` cannot tell an insert from a conflict, and
    ``get_or_create`` makes Postgres log an error on every race; this does neither.
    """
    values = {"created_at": timezone.now(), **values}
    columns = [model._meta.get_field(name).column for name in values]
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "  # noqa: S608 - identifiers from the model
        f"VALUES ({', '.join(['%s'] * len(columns))}) ON CONFLICT DO NOTHING RETURNING id"
    )
    with connections[PRIMARY].cursor() as cursor:
        cursor.execute(sql, list(values.values()))
        return cursor.fetchone() is not None


def _public_video(video_id) -> Video:
    """The ready, visible video or ``NotFoundError`` (on the primary inside a transaction)."""
    from videos.selectors import video_get_public

    return video_get_public(video_id=video_id)


# --- Follows --------------------------------------------------------------------------


def follow_create(*, follower: User, followee: User) -> bool:
    """``follower`` follows ``followee``; True if this was a change (not a repeat)."""
    if follower.pk == followee.pk:
        raise ApplicationError("You cannot follow yourself.", code="cannot_follow_self")
    if followee.suspended_at is not None or not followee.is_active:
        raise NotFoundError("No such user.")
    with transaction.atomic(using=PRIMARY):
        created = _insert_ignoring_conflict(Follow, follower_id=follower.pk, followee_id=followee.pk)
        if created:
            counter_add(entity="user", object_id=followee.pk, counter="followers", delta=1)
            counter_add(entity="user", object_id=follower.pk, counter="following", delta=1)
            from feed import services as feed_services

            feed_services.follow_created(follower_id=follower.pk, followee_id=followee.pk)
    return created


def follow_delete(*, follower: User, followee: User) -> bool:
    """``follower`` stops following ``followee``; True if there was a follow to remove."""
    with transaction.atomic(using=PRIMARY):
        deleted, _ = Follow.objects.filter(follower_id=follower.pk, followee_id=followee.pk).delete()
        if deleted:
            counter_add(entity="user", object_id=followee.pk, counter="followers", delta=-1)
            counter_add(entity="user", object_id=follower.pk, counter="following", delta=-1)
            from feed import services as feed_services

            feed_services.follow_removed(follower_id=follower.pk, followee_id=followee.pk)
    return bool(deleted)


# --- Likes and favorites --------------------------------------------------------------


def _video_relation_create(*, model: type[Model], counter: str, user: User, video_id) -> bool:
    with transaction.atomic(using=PRIMARY):
        video = _public_video(video_id)
        created = _insert_ignoring_conflict(model, user_id=user.pk, video_id=video.pk)
        if created:
            counter_add(entity="video", object_id=video.pk, counter=counter, delta=1)
    return created


def _video_relation_delete(*, model: type[Model], counter: str, user: User, video_id) -> bool:
    with transaction.atomic(using=PRIMARY):
        video = _public_video(video_id)
        deleted, _ = model.objects.filter(user_id=user.pk, video_id=video.pk).delete()
        if deleted:
            counter_add(entity="video", object_id=video.pk, counter=counter, delta=-1)
    return bool(deleted)


def like_create(*, user: User, video_id) -> bool:
    """Like a ready, visible video; True if this was a change."""
    return _video_relation_create(model=Like, counter="likes", user=user, video_id=video_id)


def like_delete(*, user: User, video_id) -> bool:
    """Remove a like; True if there was one."""
    return _video_relation_delete(model=Like, counter="likes", user=user, video_id=video_id)


def favorite_create(*, user: User, video_id) -> bool:
    """Favorite a ready, visible video; True if this was a change."""
    return _video_relation_create(model=Favorite, counter="favorites", user=user, video_id=video_id)


def favorite_delete(*, user: User, video_id) -> bool:
    """Remove a favorite; True if there was one."""
    return _video_relation_delete(model=Favorite, counter="favorites", user=user, video_id=video_id)


# --- Comments -------------------------------------------------------------------------


def comment_create(*, author: User, video_id, text: str) -> Comment:
    """Comment on a ready, visible video; ``text`` is stripped and must not be empty."""
    text = (text or "").strip()
    if not text:
        raise ApplicationError("The comment is empty.", fields={"text": ["This field may not be blank."]})
    if len(text) > settings.COMMENT_MAX_LENGTH:
        raise ApplicationError(
            "The comment is too long.",
            fields={"text": [f"Ensure this field has no more than {settings.COMMENT_MAX_LENGTH} characters."]},
        )
    with transaction.atomic(using=PRIMARY):
        video = _public_video(video_id)
        comment = Comment.objects.create(video=video, author=author, text=text)
        counter_add(entity="video", object_id=video.pk, counter="comments", delta=1)
    comment.author = author
    return comment


def comment_delete(*, user: User, comment_id: int) -> None:
    """Delete a visible comment: allowed to its author and to the video's owner."""
    with transaction.atomic(using=PRIMARY):
        comment = (
            Comment.objects.select_for_update(of=("self",))
            .select_related("video")
            .filter(pk=comment_id, state=CommentState.VISIBLE)
            .first()
        )
        if comment is None:
            raise NotFoundError("No such comment.")
        if user.pk not in (comment.author_id, comment.video.owner_id):
            raise PermissionDeniedError("Only the comment's author or the video's owner may delete it.")
        video_id = comment.video_id
        comment.delete()
        counter_add(entity="video", object_id=video_id, counter="comments", delta=-1)


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
        video = _public_video(video_id)
        result = _report_create(reporter=reporter, target={"video": video}, reason=reason, details=details)
        if result.created:
            from activity import tasks

            video_pk = str(video.pk)
            enqueue_on_commit(tasks.video_report_threshold_check, video_pk)
    return result


def comment_report_create(*, reporter: User, comment_id: int, reason: str, details: str = "") -> ReportResult:
    """Report a visible comment on a public video; one open report per reporter and comment."""
    with transaction.atomic(using=PRIMARY):
        comment = Comment.objects.filter(pk=comment_id, state=CommentState.VISIBLE).first()
        if comment is None:
            raise NotFoundError("No such comment.")
        _public_video(comment.video_id)
        return _report_create(reporter=reporter, target={"comment": comment}, reason=reason, details=details)


def video_report_threshold_check(*, video_id) -> bool:
    """Hide a video reported by ``REPORT_AUTO_HIDE_THRESHOLD`` distinct users (open reports).

    Does nothing once a moderator decided (``moderation_final``) or when the video is
    already not visible. Uses ``videos.services.video_set_moderation`` when the videos
    app provides it (it also withdraws the video from feeds and caches); otherwise
    updates the column itself and withdraws the video from feeds. Returns True if it
    hid the video.
    """
    threshold = getattr(settings, "REPORT_AUTO_HIDE_THRESHOLD", 5)
    with transaction.atomic(using=PRIMARY):
        video = Video.objects.select_for_update().filter(pk=video_id).first()
        if video is None or video.moderation_final or video.moderation != Moderation.VISIBLE:
            return False
        reporters = (
            Report.objects.filter(video_id=video.pk, status=ReportStatus.OPEN).values("reporter_id").distinct().count()
        )
        if reporters < threshold:
            return False
        try:
            from videos import services as video_services
        except ImportError:
            video_services = None
        set_moderation = getattr(video_services, "video_set_moderation", None)
        if set_moderation is not None:
            set_moderation(
                video=video,
                moderation=Moderation.HIDDEN,
                reason=f"Automatic: reported by {reporters} users; pending review.",
            )
        else:
            Video.objects.filter(pk=video.pk).update(moderation=Moderation.HIDDEN, updated_at=timezone.now())
            from feed import services as feed_services

            feed_services.video_withdrawn(video_id=video.pk)
            from activity.counters import _invalidate_video_cards

            transaction.on_commit(lambda: _invalidate_video_cards([str(video.pk)]))
        logger.info("video %s hidden automatically after reports from %s users", video.pk, reporters)
    return True


# --- Moderation (the admin calls these) ------------------------------------------------


def _reason_required(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("A reason is required.", fields={"reason": ["This field is required."]})
    return reason


def comment_set_state(*, comment: Comment, state: str, actor: User | None, reason: str) -> Comment:
    """Remove or restore a comment (moderation); the video's comment count follows.

    Idempotent: setting the state a comment already has changes nothing and is not audited.
    """
    from tiktok.audit import audit_record
    from tiktok.models import AuditAction

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
    from tiktok.audit import audit_record
    from tiktok.models import AuditAction

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
    from videos.services import video_set_moderation

    with transaction.atomic(using=PRIMARY):
        decided = video_set_moderation(video=video, moderation=moderation, actor=actor, reason=reason)
        reports_close_for_target(video=decided, resolve=moderation != Moderation.VISIBLE, actor=actor, reason=reason)
    return decided


def comment_report_decide(*, comment: Comment, state: str, actor: User, reason: str) -> Comment:
    """A moderator's decision on a reported comment: set its state, close its open reports."""
    with transaction.atomic(using=PRIMARY):
        decided = comment_set_state(comment=comment, state=state, actor=actor, reason=reason)
        reports_close_for_target(comment=decided, resolve=state == CommentState.REMOVED, actor=actor, reason=reason)
    return decided


# --- Views ----------------------------------------------------------------------------


def view_record(*, viewer: User, video_id, watched_ms: int) -> bool:
    """Record an impression, at most one per viewer and video per hour; True if recorded.

    The hourly de-duplication is one ``SET NX EX`` in the cache Redis; if that Redis is
    down, the viewer's recent views are checked in the database instead.
    """
    if not 0 <= watched_ms <= VIEW_MAX_WATCHED_MS:
        raise ApplicationError("watched_ms is out of range.", fields={"watched_ms": [f"0 to {VIEW_MAX_WATCHED_MS}."]})
    from videos.selectors import video_get_public

    video = video_get_public(video_id=video_id)
    from feed.services import video_viewed

    video_viewed(viewer_id=viewer.pk, video_id=video.pk)  # later feed pages skip it
    key = VIEW_DEDUPE_KEY.format(viewer_id=viewer.pk, video_id=video.pk)
    try:
        first = bool(get_redis_connection("default").set(key, 1, nx=True, ex=VIEW_DEDUPE_SECONDS))
    except Exception:  # noqa: BLE001 - fall back to the database
        logger.warning("view de-duplication falls back to the database: Redis unavailable")
        since = timezone.now() - timedelta(seconds=VIEW_DEDUPE_SECONDS)
        first = not View.objects.filter(viewer_id=viewer.pk, video_id=video.pk, created_at__gte=since).exists()
    if not first:
        return False
    with transaction.atomic(using=PRIMARY):
        View.objects.create(viewer_id=viewer.pk, video_id=video.pk, watched_ms=watched_ms)
        counter_add(entity="video", object_id=video.pk, counter="views", delta=1)
    return True
