"""Reads of the inbox: the unread count and the page of notifications, with their latest
actors (the items are written by ``activity.notifications.services``)."""

from __future__ import annotations

from django.db import connections
from django.db.models import Q

from accounts.models import User
from activity.models import CommentState, Notification
from activity.visibility import relations
from tiktok import db_router
from tiktok.db_router import PRIMARY
from tiktok.media_storage import file_url, stored_url
from tiktok.pagination import Page, keyset_page
from videos.models import public_video_q

ACTORS_SHOWN = 3


def unread_count(*, user) -> int:
    """One index-only count (partial index on unread items; at most the per-recipient cap)."""
    with db_router.use_primary():  # primary: a poll right after marking read must not see old state
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
    with db_router.use_primary():  # primary: the inbox after "mark read" (a poll, no write of its own)
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
