"""Writes of engagement: likes, favorites, comments and views.

Every relation write is idempotent (``activity.writes``): only a real change (a row
inserted or deleted) moves a counter or notifies anyone. Counters are never updated here:
``activity.engagement.counters.counter_add`` queues a delta after commit (see that module).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Model, OuterRef
from django.utils import timezone
from django_redis import get_redis_connection

from accounts.models import User
from activity.engagement.counters import counter_add
from activity.engagement.flags import FAVORITED, LIKED, flags_record
from activity.models import Comment, CommentState, Favorite, Like, View
from activity.notifications import services as notifications
from activity.visibility import relations
from activity.writes import delete_to_target, insert_to_target
from tiktok.db_router import PRIMARY
from tiktok.exceptions import ApplicationError, NotFoundError, PermissionDeniedError
from tiktok.keys import VIEW_DEDUPE_KEY
from tiktok.outbox import enqueue_on_commit
from videos.models import Video
from videos.selectors import parse_video_id, video_get_public

logger = logging.getLogger(__name__)

VIEW_DEDUPE_SECONDS = 3600
VIEW_MAX_WATCHED_MS = 10 * 60 * 1000


def _public_video(video_id, *, user: User | None = None) -> Video:
    """The ready, visible video or ``NotFoundError`` (on the primary inside a transaction);
    with ``user``, also ``NotFoundError`` when the user and the video's owner blocked
    each other (either way)."""
    video = video_get_public(video_id=video_id)
    if user is not None and relations.blocked_between(user_id=user.pk, other_id=video.owner_id):
        raise NotFoundError("No such video.")
    return video


# --- Likes and favorites --------------------------------------------------------------


# The flag each relation sets on the viewer's cards (``activity.engagement.flags``).
RELATION_FLAGS = {"likes": LIKED, "favorites": FAVORITED}


def _video_relation_create(*, model: type[Model], counter: str, user: User, video_id) -> bool:
    video_pk = parse_video_id(video_id)
    target = (
        Video.objects.public()
        .filter(pk=video_pk)
        .filter(~relations.blocked_either_way(user_id=user.pk, other=OuterRef("owner_id")))
        .values("id", "feed_id")
    )
    tasks = [notifications.notification_task(notifications.LIKE_EVENT, user.pk, str(video_pk))] if model is Like else []
    # One statement, no transaction block: the counter and the flag follow its commit.
    inserted = insert_to_target(model, target=target, target_field="video", tasks=tasks, user_id=user.pk)
    if inserted is None:
        raise NotFoundError("No such video.")  # not public, or blocked either way
    if inserted.changed:
        counter_add(entity="video", object_id=video_pk, counter=counter, delta=1)
        flags_record(user_id=user.pk, field=RELATION_FLAGS[counter] + str(inserted.target["feed_id"]), value=True)
    return inserted.changed


def _video_relation_delete(*, model: type[Model], counter: str, user: User, video_id) -> bool:
    video_pk = parse_video_id(video_id)
    target = Video.objects.public().filter(pk=video_pk).values("id", "feed_id")
    tasks = [notifications.notification_task(notifications.LIKE_EVENT, user.pk, str(video_pk))] if model is Like else []
    deleted = delete_to_target(model, target=target, target_field="video", tasks=tasks, user_id=user.pk)
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
