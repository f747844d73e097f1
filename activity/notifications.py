"""Notifications: the inbox items written by Celery after an event commits, and their reads.

A task never says "add" or "remove": it names a relation (a like, a follow, a comment)
and ``notification_sync_*`` makes the inbox match whether that relation exists *now* (on
the primary). A redelivered task, a like/unlike/like in any task order, or a task running
after the row is gone all settle on the same state. Per (recipient, kind, target) an
actor appears at most once: in the item of the window of their event (``group_key``
unique per recipient), and ``NotificationActor`` is unique per (item, actor); the item's
``actor_count`` changes only with an actor row inserted or deleted, under the item's
row lock. Storage stays bounded: one item per target and window, at most
``NOTIFICATION_MAX_PER_RECIPIENT`` items per recipient, items expire after
``NOTIFICATION_RETENTION_DAYS`` (beat), and actor rows go with their item.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connections, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.module_loading import import_string

from accounts.models import User
from activity import relations
from activity.models import (
    Comment,
    CommentState,
    Follow,
    Like,
    Mute,
    Notification,
    NotificationActor,
    NotificationKind,
)
from tiktok import db_router
from tiktok.db_router import PRIMARY
from tiktok.media_storage import file_url, stored_url
from tiktok.pagination import Page, keyset_page
from videos.models import Video, public_video_q

logger = logging.getLogger(__name__)

ACTORS_SHOWN = 3
MENTION_PATTERN = re.compile(r"(?<![\w@.])@([A-Za-z0-9_.]{3,30})")
EXPIRE_BATCH = 1000


# --- Device push ------------------------------------------------------------------------


class NoopPushBackend:
    """The local push backend: logs and drops. A real one (APNs, FCM, a push service)
    implements ``send`` and is named in ``NOTIFICATION_PUSH_BACKEND``."""

    def send(self, *, recipient_id: int, notification_id: int, kind: str, actor_id: int) -> None:
        logger.debug("push to %s: %s by %s (notification %s)", recipient_id, kind, actor_id, notification_id)


def push_backend():
    return import_string(settings.NOTIFICATION_PUSH_BACKEND)()


def _push_on_commit(*, recipient_id: int, notification_id: int, kind: str, actor_id: int) -> None:
    def send() -> None:
        try:
            push_backend().send(
                recipient_id=recipient_id, notification_id=notification_id, kind=kind, actor_id=actor_id
            )
        except Exception:  # noqa: BLE001 - a push is best effort; the inbox has the item
            logger.warning("push of notification %s failed", notification_id)

    transaction.on_commit(send, using=PRIMARY)


# --- Writes (called by ``activity.tasks``) ------------------------------------------------


def _window(at: datetime) -> int:
    return int(at.timestamp()) // settings.NOTIFICATION_AGGREGATE_SECONDS


def _hides(*, recipient_id: int, actor_id: int) -> bool:
    """Whether the recipient must not hear from the actor (blocked either way, or muted)."""
    if relations.blocked_between(user_id=recipient_id, other_id=actor_id):
        return True
    with db_router.use_primary():
        return Mute.objects.filter(muter_id=recipient_id, muted_id=actor_id).exists()


def _group_items(*, recipient_id: int, prefix: str, aggregate: bool):
    """The items of one (recipient, kind, target): every window of it, or the one item."""
    lookup = {"group_key__startswith": prefix} if aggregate else {"group_key": prefix}
    return Notification.objects.using(PRIMARY).filter(recipient_id=recipient_id, **lookup)


def _sync(
    *,
    recipient_id: int,
    kind: str,
    prefix: str,
    actor_id: int,
    present: Callable[[], datetime | None],
    aggregate: bool,
    video_id=None,
    comment_id: int | None = None,
) -> None:
    """Make ``actor_id``'s place in the (recipient, kind, ``prefix``) items match ``present()``:
    the event time while the relation exists, None once it is gone."""
    if recipient_id == actor_id:
        return
    with transaction.atomic(using=PRIMARY):
        happened_at = present()
        holding = list(
            _group_items(recipient_id=recipient_id, prefix=prefix, aggregate=aggregate)
            .filter(actor_rows__actor_id=actor_id)
            .select_for_update(of=("self",))
        )
        if happened_at is not None and not holding and not _hides(recipient_id=recipient_id, actor_id=actor_id):
            _add_actor(
                recipient_id=recipient_id,
                kind=kind,
                group_key=f"{prefix}{_window(happened_at)}" if aggregate else prefix,
                actor_id=actor_id,
                video_id=video_id,
                comment_id=comment_id,
                present=present,
            )
        elif happened_at is None:
            for item in holding:
                _remove_actor(item=item, actor_id=actor_id)


def _add_actor(*, recipient_id, kind, group_key, actor_id, video_id, comment_id, present) -> None:
    now = timezone.now()
    with connections[PRIMARY].cursor() as cursor:
        cursor.execute(
            "INSERT INTO activity_notification (recipient_id, kind, group_key, video_id, comment_id, actor_count,"
            " read, created_at, updated_at) VALUES (%s, %s, %s, %s, %s, 0, false, %s, %s)"
            " ON CONFLICT (recipient_id, group_key) DO NOTHING RETURNING id",
            [recipient_id, kind, group_key, video_id, comment_id, now, now],
        )
        created = cursor.fetchone() is not None
    item = Notification.objects.using(PRIMARY).select_for_update().get(recipient_id=recipient_id, group_key=group_key)
    if present() is None:  # withdrawn while this task waited for the item's lock
        if item.actor_count == 0:
            item.delete()
        return
    with connections[PRIMARY].cursor() as cursor:
        cursor.execute(
            "INSERT INTO activity_notificationactor (notification_id, actor_id, created_at) VALUES (%s, %s, %s)"
            " ON CONFLICT DO NOTHING RETURNING id",
            [item.pk, actor_id, now],
        )
        inserted = cursor.fetchone() is not None
    if not inserted:
        return
    Notification.objects.using(PRIMARY).filter(pk=item.pk).update(
        actor_count=F("actor_count") + 1, read=False, updated_at=now
    )
    _push_on_commit(recipient_id=recipient_id, notification_id=item.pk, kind=kind, actor_id=actor_id)
    if created:
        _cap(recipient_id=recipient_id)


def _remove_actor(*, item: Notification, actor_id: int) -> None:
    deleted, _ = NotificationActor.objects.using(PRIMARY).filter(notification=item, actor_id=actor_id).delete()
    if not deleted:
        return
    if item.actor_count <= 1:
        item.delete()
    else:
        Notification.objects.using(PRIMARY).filter(pk=item.pk).update(actor_count=F("actor_count") - 1)


def _cap(*, recipient_id: int) -> None:
    """Keep the recipient's newest ``NOTIFICATION_MAX_PER_RECIPIENT`` items."""
    cap = settings.NOTIFICATION_MAX_PER_RECIPIENT
    old = list(
        Notification.objects.using(PRIMARY)
        .filter(recipient_id=recipient_id)
        .order_by("-id")
        .values_list("id", flat=True)[cap : cap + EXPIRE_BATCH]
    )
    if old:
        Notification.objects.using(PRIMARY).filter(id__in=old).delete()


def notification_sync_like(*, user_id: int, video_id: str) -> None:
    """The like of ``user_id`` on ``video_id`` reaches (or leaves) the owner's inbox."""
    owner_id = Video.objects.using(PRIMARY).filter(id=video_id).values_list("owner_id", flat=True).first()
    if owner_id is None:
        return  # the video is gone, and its notifications with it

    def present():
        return (
            Like.objects.using(PRIMARY)
            .filter(user_id=user_id, video_id=video_id)
            .values_list("created_at", flat=True)
            .first()
        )

    _sync(
        recipient_id=owner_id,
        kind=NotificationKind.LIKE,
        prefix=f"like:{video_id}:",
        actor_id=user_id,
        present=present,
        aggregate=True,
        video_id=video_id,
    )


def notification_sync_follow(*, follower_id: int, followee_id: int) -> None:
    """The follow reaches (or leaves) the followee's inbox."""

    def present():
        return (
            Follow.objects.using(PRIMARY)
            .filter(follower_id=follower_id, followee_id=followee_id)
            .values_list("created_at", flat=True)
            .first()
        )

    _sync(
        recipient_id=followee_id,
        kind=NotificationKind.FOLLOW,
        prefix="follow:",
        actor_id=follower_id,
        present=present,
        aggregate=True,
    )


# The relation events a batch carries: ``[kind, actor id, target id]``.
LIKE_EVENT, FOLLOW_EVENT = "like", "follow"
_SYNC_EVENT = {
    LIKE_EVENT: lambda user_id, video_id: notification_sync_like(user_id=user_id, video_id=video_id),
    FOLLOW_EVENT: lambda follower_id, followee_id: notification_sync_follow(
        follower_id=follower_id, followee_id=followee_id
    ),
}


def notifications_sync(*, events: list) -> list:
    """Sync the inbox with each relation of ``events`` (a relay batch of likes and
    follows, ``[LIKE_EVENT, user id, video id]`` or ``[FOLLOW_EVENT, follower id, followee
    id]``): one sync per distinct relation, however often the batch names it (each sync
    reads the relation as it is now). Returns the events whose sync failed, to retry."""
    failed = []
    for event in dict.fromkeys(tuple(event) for event in events):
        kind, actor_id, target_id = event
        try:
            _SYNC_EVENT[kind](actor_id, target_id)
        except Exception:  # noqa: BLE001 - the others still go through; the caller retries this one
            logger.warning("notification sync of %s failed", event, exc_info=True)
            failed.append(list(event))
    return failed


def mentioned_usernames(text: str) -> list[str]:
    """Distinct ``@username`` mentions in ``text``, in order, at most ``MENTIONS_MAX_PER_TEXT``."""
    names: dict[str, None] = {}
    for match in MENTION_PATTERN.finditer(text or ""):
        names.setdefault(match.group(1).lower().rstrip("."), None)
    return list(names)[: settings.MENTIONS_MAX_PER_TEXT]


def mentioned_user_ids(text: str) -> list[int]:
    """Ids of the active, unsuspended users ``text`` mentions (blocks are checked per item)."""
    names = mentioned_usernames(text)
    if not names:
        return []
    return list(
        User.objects.using(PRIMARY)
        .filter(username__in=names, is_active=True, suspended_at__isnull=True)
        .values_list("id", flat=True)
    )


def notification_sync_comment(*, comment_id: int) -> None:
    """A comment reaches the video owner's inbox, and every user it mentions (once)."""
    comment = (
        Comment.objects.using(PRIMARY)
        .filter(pk=comment_id, state=CommentState.VISIBLE)
        .values_list("author_id", "video_id", "video__owner_id", "text", "created_at")
        .first()
    )
    if comment is None:
        return  # deleted: its notifications went with it (foreign key cascade)
    author_id, video_id, owner_id, text, created_at = comment

    def present():
        exists = Comment.objects.using(PRIMARY).filter(pk=comment_id, state=CommentState.VISIBLE).exists()
        return created_at if exists else None

    common = {"actor_id": author_id, "present": present, "aggregate": False, "video_id": video_id}
    _sync(
        recipient_id=owner_id,
        kind=NotificationKind.COMMENT,
        prefix=f"comment:{comment_id}",
        comment_id=comment_id,
        **common,
    )
    for user_id in mentioned_user_ids(text):
        _sync(
            recipient_id=user_id,
            kind=NotificationKind.MENTION,
            prefix=f"mention:{comment_id}",
            comment_id=comment_id,
            **common,
        )


def notification_sync_caption(*, video_id) -> None:
    """A public video's caption notifies every user it mentions, once per video and user
    (a later caption edit that mentions someone new notifies them too)."""
    public = Video.objects.using(PRIMARY).filter(public_video_q(), id=video_id)
    row = public.values_list("owner_id", "caption", "published_at").first()
    if row is None:
        return  # not public (yet, or any more): nobody is told about it
    owner_id, caption, published_at = row

    def present():
        return published_at if public.exists() else None

    for user_id in mentioned_user_ids(caption):
        _sync(
            recipient_id=user_id,
            kind=NotificationKind.MENTION,
            prefix=f"mention:video:{video_id}",
            actor_id=owner_id,
            present=present,
            aggregate=False,
            video_id=video_id,
        )


def notifications_withdraw_between(*, recipient_id: int, actor_id: int) -> None:
    """Drop ``actor_id`` from every item of ``recipient_id`` (a block or a mute)."""
    with transaction.atomic(using=PRIMARY):
        items = Notification.objects.using(PRIMARY).filter(recipient_id=recipient_id)
        for item in items.filter(actor_rows__actor_id=actor_id).select_for_update(of=("self",)):
            _remove_actor(item=item, actor_id=actor_id)


def notifications_expire(*, now: datetime | None = None) -> int:
    """Delete items not updated for ``NOTIFICATION_RETENTION_DAYS``, in batches (beat)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.NOTIFICATION_RETENTION_DAYS)
    total = 0
    while True:
        ids = list(
            Notification.objects.using(PRIMARY)
            .filter(updated_at__lt=cutoff)
            .values_list("id", flat=True)[:EXPIRE_BATCH]
        )
        if not ids:
            return total
        total += Notification.objects.using(PRIMARY).filter(id__in=ids).delete()[1].get("activity.Notification", 0)


def notifications_mark_read(*, user, up_to: int | None = None) -> int:
    """Mark read every item up to ``up_to`` (an item id), or all of them."""
    items = Notification.objects.using(PRIMARY).filter(recipient_id=user.pk, read=False)
    if up_to is not None:
        items = items.filter(id__lte=up_to)
    return items.update(read=True)


# --- Reads ------------------------------------------------------------------------------


def unread_count(*, user) -> int:
    """One index-only count (partial index on unread items; at most the per-recipient cap)."""
    with db_router.use_primary():  # a poll right after marking read must not see old state
        return Notification.objects.filter(recipient_id=user.pk, read=False).count()


ACTORS_SQL = """
SELECT n.id, u.id, u.username, u.display_name, u.avatar_key  -- column of User.avatar
FROM unnest(%(items)s::bigint[]) AS n(id)
CROSS JOIN LATERAL (
    SELECT actor_id, created_at, id FROM activity_notificationactor a
    WHERE a.notification_id = n.id AND NOT (a.actor_id = ANY(%(hidden)s::bigint[]))
    ORDER BY a.created_at DESC, a.id DESC LIMIT %(shown)s
) latest
JOIN accounts_user u ON u.id = latest.actor_id
ORDER BY n.id, latest.created_at DESC, latest.id DESC
"""


def notifications_page(*, user, cursor: str | None, limit: int) -> Page:
    """The user's inbox, newest first: a fixed number of queries whatever the page size.

    Items whose video is no longer public or whose comment was removed are left out, and
    so are actors the user must not see (a page may then be shorter; it never leaks).
    """
    hidden = relations.hidden_user_ids(viewer_id=user.pk)
    queryset = (
        Notification.objects.filter(recipient_id=user.pk)
        .filter(Q(video__isnull=True) | public_video_q("video__"))
        .filter(Q(comment__isnull=True) | Q(comment__state=CommentState.VISIBLE))
        .select_related("video", "comment")
    )
    with db_router.use_primary():  # read-your-writes for "mark read", and the inbox is small
        page = keyset_page(queryset, cursor=cursor, limit=limit)
        actors: dict[int, list[dict]] = {}
        if page.items:
            with connections[PRIMARY].cursor() as sql:
                sql.execute(
                    ACTORS_SQL,
                    {"items": [item.pk for item in page.items], "hidden": list(hidden), "shown": ACTORS_SHOWN},
                )
                for item_id, _, username, display_name, avatar_key in sql.fetchall():
                    actors.setdefault(item_id, []).append(
                        {
                            "username": username,
                            "display_name": display_name,
                            "avatar_url": stored_url(User.avatar.field, avatar_key),
                        }
                    )
    page.items = [_item(item, actors.get(item.pk, [])) for item in page.items if actors.get(item.pk)]
    return page


def _item(item: Notification, actors: list[dict]) -> dict:
    video = item.video
    return {
        "id": item.pk,
        "kind": item.kind,
        "actors": actors,
        "actor_count": item.actor_count,
        "video": {"id": str(video.id), "poster_url": file_url(video.poster)} if video else None,
        "comment": {"id": item.comment.pk, "text": item.comment.text} if item.comment_id else None,
        "created_at": item.created_at,
        "read": item.read,
    }
