"""Writes for activity: follows, likes, favorites, comments, views, blocks and mutes.

Every relation write is idempotent: a unique constraint plus ``INSERT ... ON CONFLICT
DO NOTHING`` make a repeated request a no-op, and only a real change (a row inserted
or deleted) moves a counter or notifies the feed. Counters are never updated here:
``activity.counters.counter_add`` queues a delta after commit (see that module).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import psycopg
from django.conf import settings
from django.db import connections, transaction
from django.db.models import Model, OuterRef, QuerySet
from django.utils import timezone
from django_redis import get_redis_connection

from accounts.models import User
from activity import notifications, relations
from activity.counters import Delta, counter_add, counters_add
from activity.events import FollowCreated, FollowRemoved, MuteCreated, MuteRemoved
from activity.flags import FAVORITED, FOLLOWING, LIKED, flags_record
from activity.models import Block, Comment, CommentState, Favorite, Follow, Like, Mute, View
from tiktok import db_router
from tiktok.db_router import PRIMARY
from tiktok.events import event_tasks, publish
from tiktok.exceptions import ApplicationError, NotFoundError, PermissionDeniedError
from tiktok.keys import VIEW_DEDUPE_KEY
from tiktok.outbox import Task, enqueue_on_commit, publish_on_commit, record_sql, recorded_sql
from videos.models import Video
from videos.selectors import parse_video_id, video_get_public

logger = logging.getLogger(__name__)

VIEW_DEDUPE_SECONDS = 3600
VIEW_MAX_WATCHED_MS = 10 * 60 * 1000
PREPARE_THRESHOLD = 5  # psycopg's default; the like/follow statements ask to be prepared at once


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
        inserted = cursor.fetchone() is not None
    if inserted:
        db_router.mark_write()  # raw SQL: tell the router this scope wrote (read-your-writes)
    return inserted


class _PreparingCursor(psycopg.Cursor):
    """Server-side binding, every statement prepared on its connection at first use.

    Django's cursors bind client-side, so PostgreSQL plans each like or follow statement
    anew (~0.5 ms of a ~1.3 ms statement). A statement's text here depends only on the
    code, so psycopg prepares it once per connection (its cache is the connection's:
    a new connection, after ``CONN_MAX_AGE`` or a failover, prepares again; this needs a
    session per client, as direct connections are, not a transaction-pooling proxy).
    """

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True, binary=binary)


def _prepared_cursor():
    """A ``_PreparingCursor`` on the primary's connection, wrapped as Django wraps its own
    (error translation, query logging in tests and ``DEBUG``)."""
    connection = connections[PRIMARY]
    connection.ensure_connection()
    # Django switches psycopg's statement cache off (None) for the sake of transaction
    # poolers; its own cursors bind client-side and never prepare, so turning the cache on
    # changes nothing but this cursor.
    connection.connection.prepare_threshold = PREPARE_THRESHOLD
    cursor = _PreparingCursor(connection.connection)
    return connection.make_debug_cursor(cursor) if connection.queries_logged else connection.make_cursor(cursor)


@dataclass(frozen=True)
class Changed:
    changed: bool  # False: nothing to insert or delete (a repeated request)
    target: dict[str, Any]  # the target row's selected values


def _change_with_target(change_sql: str, change_params: list, *, target: QuerySet, tasks: list[Task]) -> Changed | None:
    """Check the target, change the relation to it and record the ``tasks`` the change
    starts in the outbox, all in one statement: one round trip and one commit.

    ``target`` is a ``.values(...)`` queryset (with ``id``) of at most one row whose filters
    are the checks (visible, not blocked ...): the ORM's own filters, compiled here, so who
    may see what keeps one definition. ``change_sql`` inserts or deletes the relation row
    of the CTE ``target``, ``RETURNING 1``; the tasks are recorded only if it did
    (``tiktok.outbox.record_sql``) and published after the commit. None when ``target``
    has no row; else whether a row changed, and the target's values.
    """
    target_sql, target_params = target.query.get_compiler(using=PRIMARY).as_sql()
    queue_sql, queue_params = record_sql(tasks, when="changed")
    sql = (
        f"WITH target AS ({target_sql}), changed AS ({change_sql}), queued AS ({queue_sql}) "  # noqa: S608 - from code
        f"SELECT EXISTS (SELECT 1 FROM changed), {recorded_sql('queued')}, target.* FROM target"
    )
    with _prepared_cursor() as cursor:
        cursor.execute(sql, [*target_params, *change_params, *queue_params])
        row = cursor.fetchone()
        names = [column.name for column in cursor.description[2:]]
    if row is None:
        return None
    changed, queued = row[0], row[1]
    if changed:
        db_router.mark_write()  # raw SQL: tell the router this scope wrote (read-your-writes)
        publish_on_commit(queued)
    return Changed(changed=changed, target=dict(zip(names, row[2:], strict=True)))


def _insert_to_target(
    model: type[Model], *, target: QuerySet, target_field: str, tasks: list[Task], **values
) -> Changed | None:
    """``INSERT ... SELECT`` the relation row to ``target`` with ``values``, ``ON CONFLICT
    DO NOTHING`` (see ``_change_with_target``)."""
    values = {"created_at": timezone.now(), **values}
    columns = [model._meta.get_field(name).column for name in [*values, target_field]]
    insert = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "  # noqa: S608 - identifiers from the model
        f"SELECT {', '.join(['%s'] * len(values))}, target.id FROM target ON CONFLICT DO NOTHING RETURNING 1"
    )
    return _change_with_target(insert, list(values.values()), target=target, tasks=tasks)


def _delete_to_target(
    model: type[Model], *, target: QuerySet, target_field: str, tasks: list[Task], **values
) -> Changed | None:
    """``DELETE`` the relation row to ``target`` matching ``values`` (see ``_change_with_target``)."""
    matches = [f"relation.{model._meta.get_field(name).column} = %s" for name in values]
    delete = (
        f"DELETE FROM {model._meta.db_table} AS relation USING target "  # noqa: S608 - identifiers from the model
        f"WHERE {' AND '.join(matches)} AND relation.{model._meta.get_field(target_field).column} = target.id "
        "RETURNING 1"
    )
    return _change_with_target(delete, list(values.values()), target=target, tasks=tasks)


def _public_video(video_id, *, user: User | None = None) -> Video:
    """The ready, visible video or ``NotFoundError`` (on the primary inside a transaction);
    with ``user``, also ``NotFoundError`` when the user and the video's owner blocked
    each other (either way)."""
    video = video_get_public(video_id=video_id)
    if user is not None and relations.blocked_between(user_id=user.pk, other_id=video.owner_id):
        raise NotFoundError("No such video.")
    return video


def _notification_task(kind: str, actor_id: int, target_id) -> Task:
    """The notification of one like or follow, as an item of the batched
    ``notifications_sync`` task (the outbox relay sends one per batch)."""
    return Task("activity.tasks.notifications_sync", ([[kind, actor_id, target_id]],))


# --- Follows --------------------------------------------------------------------------


def follow_create(*, follower: User, followee: User) -> bool:
    """``follower`` follows ``followee``; True if this was a change (not a repeat)."""
    if follower.pk == followee.pk:
        raise ApplicationError("You cannot follow yourself.", code="cannot_follow_self")
    if followee.suspended_at is not None or not followee.is_active:
        raise NotFoundError("No such user.")
    target = (
        User.objects.filter(pk=followee.pk, is_active=True, suspended_at__isnull=True)
        .filter(~relations.blocked_either_way(user_id=follower.pk, other=OuterRef("pk")))
        .values("id")
    )
    tasks = [
        *event_tasks(FollowCreated(follower_id=follower.pk, followee_id=followee.pk)),
        _notification_task(notifications.FOLLOW_EVENT, follower.pk, followee.pk),
    ]
    # One statement, no transaction block: the counters and the flag follow its commit.
    inserted = _insert_to_target(Follow, target=target, target_field="followee", tasks=tasks, follower_id=follower.pk)
    if inserted is None:
        if relations.has_blocked(blocker_id=follower.pk, blocked_id=followee.pk):
            raise ApplicationError("You blocked this user; unblock them first.", code="user_blocked")
        raise NotFoundError("No such user.")  # they blocked the follower (or left meanwhile)
    if inserted.changed:
        _follow_counters(follower=follower, followee=followee, delta=1)
        flags_record(user_id=follower.pk, field=FOLLOWING + str(followee.pk), value=True)
    return inserted.changed


def _follow_counters(*, follower: User, followee: User, delta: int) -> None:
    counters_add(
        [
            Delta(entity="user", object_id=followee.pk, counter="followers", delta=delta),
            Delta(entity="user", object_id=follower.pk, counter="following", delta=delta),
        ]
    )


def follow_delete(*, follower: User, followee: User) -> bool:
    """``follower`` stops following ``followee``; True if there was a follow to remove."""
    tasks = [
        *event_tasks(FollowRemoved(follower_id=follower.pk, followee_id=followee.pk)),
        _notification_task(notifications.FOLLOW_EVENT, follower.pk, followee.pk),
    ]
    target = User.objects.filter(pk=followee.pk).values("id")
    deleted = _delete_to_target(Follow, target=target, target_field="followee", tasks=tasks, follower_id=follower.pk)
    if deleted is None or not deleted.changed:  # None: the followee's account (and its follows) is gone
        return False
    _follow_counters(follower=follower, followee=followee, delta=-1)
    flags_record(user_id=follower.pk, field=FOLLOWING + str(followee.pk), value=False)
    return True


# --- Likes and favorites --------------------------------------------------------------


# The flag each relation sets on the viewer's cards (``activity.flags``).
RELATION_FLAGS = {"likes": LIKED, "favorites": FAVORITED}


def _video_relation_create(*, model: type[Model], counter: str, user: User, video_id) -> bool:
    video_pk = parse_video_id(video_id)
    target = (
        Video.objects.public()
        .filter(pk=video_pk)
        .filter(~relations.blocked_either_way(user_id=user.pk, other=OuterRef("owner_id")))
        .values("id", "feed_id")
    )
    tasks = [_notification_task(notifications.LIKE_EVENT, user.pk, str(video_pk))] if model is Like else []
    # One statement, no transaction block: the counter and the flag follow its commit.
    inserted = _insert_to_target(model, target=target, target_field="video", tasks=tasks, user_id=user.pk)
    if inserted is None:
        raise NotFoundError("No such video.")  # not public, or blocked either way
    if inserted.changed:
        counter_add(entity="video", object_id=video_pk, counter=counter, delta=1)
        flags_record(user_id=user.pk, field=RELATION_FLAGS[counter] + str(inserted.target["feed_id"]), value=True)
    return inserted.changed


def _video_relation_delete(*, model: type[Model], counter: str, user: User, video_id) -> bool:
    video_pk = parse_video_id(video_id)
    target = Video.objects.public().filter(pk=video_pk).values("id", "feed_id")
    tasks = [_notification_task(notifications.LIKE_EVENT, user.pk, str(video_pk))] if model is Like else []
    deleted = _delete_to_target(model, target=target, target_field="video", tasks=tasks, user_id=user.pk)
    if deleted is None:
        raise NotFoundError("No such video.")
    if deleted.changed:
        counter_add(entity="video", object_id=video_pk, counter=counter, delta=-1)
        flags_record(user_id=user.pk, field=RELATION_FLAGS[counter] + str(deleted.target["feed_id"]), value=False)
    return deleted.changed


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
        video = _public_video(video_id, user=author)
        comment = Comment.objects.create(video=video, author=author, text=text)
        counter_add(entity="video", object_id=video.pk, counter="comments", delta=1)
        enqueue_on_commit("activity.tasks.notification_sync_comment", comment.pk)
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


# --- Views ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ViewResult:
    video_id: uuid.UUID
    recorded: bool


def view_record(*, viewer: User, video_id, watched_ms: int) -> ViewResult:
    """Record an impression, at most one per viewer and video per hour (``recorded``).

    The hourly de-duplication is one ``SET NX EX`` in the cache Redis; if that Redis is
    down, the viewer's recent views are checked in the database instead.
    """
    if not 0 <= watched_ms <= VIEW_MAX_WATCHED_MS:
        raise ApplicationError("watched_ms is out of range.", fields={"watched_ms": [f"0 to {VIEW_MAX_WATCHED_MS}."]})
    video = _public_video(video_id, user=viewer)  # a blocked viewer sees no video to record
    key = VIEW_DEDUPE_KEY.format(viewer_id=viewer.pk, video_id=video.pk)
    try:
        first = bool(get_redis_connection("default").set(key, 1, nx=True, ex=VIEW_DEDUPE_SECONDS))
    except Exception:  # noqa: BLE001 - fall back to the database
        logger.warning("view de-duplication falls back to the database: Redis unavailable")
        since = timezone.now() - timedelta(seconds=VIEW_DEDUPE_SECONDS)
        first = not View.objects.filter(viewer_id=viewer.pk, video_id=video.pk, created_at__gte=since).exists()
    if not first:
        return ViewResult(video_id=video.pk, recorded=False)
    with transaction.atomic(using=PRIMARY):
        View.objects.create(viewer_id=viewer.pk, video_id=video.pk, watched_ms=watched_ms)
        counter_add(entity="video", object_id=video.pk, counter="views", delta=1)
    return ViewResult(video_id=video.pk, recorded=True)


# --- Blocks and mutes -------------------------------------------------------------------
# Reads and the cached "hidden users" set live in ``activity.relations``.


def _not_self(actor: User, other: User, verb: str) -> None:
    if actor.pk == other.pk:
        raise ApplicationError(f"You cannot {verb} yourself.", code=f"cannot_{verb}_self")


def block_create(*, blocker: User, blocked: User) -> bool:
    """Block: removes the follows both ways and each other's notifications; True if new.

    ``follow_delete`` takes each side's videos out of the other's feed (after commit).
    """
    _not_self(blocker, blocked, "block")
    with transaction.atomic(using=PRIMARY):
        created = _insert_ignoring_conflict(Block, blocker_id=blocker.pk, blocked_id=blocked.pk)
        if created:
            follow_delete(follower=blocker, followee=blocked)
            follow_delete(follower=blocked, followee=blocker)
            notifications.notifications_withdraw_between(recipient_id=blocker.pk, actor_id=blocked.pk)
            notifications.notifications_withdraw_between(recipient_id=blocked.pk, actor_id=blocker.pk)
            relations.relations_refresh(user_ids=[blocker.pk, blocked.pk])
    return created


def block_delete(*, blocker: User, blocked: User) -> bool:
    """Unblock (follows are not restored); True if there was a block."""
    _not_self(blocker, blocked, "block")
    with transaction.atomic(using=PRIMARY):
        deleted, _ = Block.objects.filter(blocker_id=blocker.pk, blocked_id=blocked.pk).delete()
        if deleted:
            relations.relations_refresh(user_ids=[blocker.pk, blocked.pk])
    return bool(deleted)


def mute_create(*, muter: User, muted: User) -> bool:
    """Mute: the muted user's videos leave the muter's feed and their notifications the
    muter's inbox; the muted user notices nothing. True if new."""
    _not_self(muter, muted, "mute")
    with transaction.atomic(using=PRIMARY):
        created = _insert_ignoring_conflict(Mute, muter_id=muter.pk, muted_id=muted.pk)
        if created:
            notifications.notifications_withdraw_between(recipient_id=muter.pk, actor_id=muted.pk)
            relations.relations_refresh(user_ids=[muter.pk])
            # The feed's handler re-checks: it removes a creator the follower no longer
            # follows or has muted (``feed.services.follow_unmerge``).
            publish(MuteCreated(muter_id=muter.pk, muted_id=muted.pk))
    return created


def mute_delete(*, muter: User, muted: User) -> bool:
    """Unmute: a followed creator's recent videos come back into the feed. True if muted."""
    _not_self(muter, muted, "mute")
    with transaction.atomic(using=PRIMARY):
        deleted, _ = Mute.objects.filter(muter_id=muter.pk, muted_id=muted.pk).delete()
        if deleted:
            relations.relations_refresh(user_ids=[muter.pk])
            publish(MuteRemoved(muter_id=muter.pk, muted_id=muted.pk))
    return bool(deleted)
