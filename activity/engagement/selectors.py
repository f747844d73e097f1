"""Reads of engagement: the viewer's flags, video cards with them, comments, a user's
likes and favorites, recent views.

Contract used by other apps (keep these signatures): ``viewer_flags``,
``with_viewer_state`` and ``video_cards``. Every list is keyset-paginated and runs a
fixed number of queries whatever the page size.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import connections

from activity.models import Comment, CommentState, Favorite, Like, View
from activity.visibility import relations
from tiktok import db_router
from tiktok.exceptions import ApplicationError
from tiktok.pagination import Page, keyset_page
from videos import selectors as video_selectors
from videos.models import public_video_q
from videos.selectors import OwnedCard

VIEWER_FLAGS_SQL = """
SELECT 'liked', video_id::text FROM activity_like WHERE user_id = %(viewer)s AND video_id = ANY(%(videos)s::uuid[])
UNION ALL
SELECT 'favorited', video_id::text FROM activity_favorite
WHERE user_id = %(viewer)s AND video_id = ANY(%(videos)s::uuid[])
UNION ALL
SELECT 'following', followee_id::text FROM activity_follow
WHERE follower_id = %(viewer)s AND followee_id = ANY(%(owners)s::bigint[])
"""


def viewer_flags(*, viewer, video_owner_ids: dict[str, int]) -> dict[str, dict]:
    """``{video_id: {"liked", "favorited", "following"}}`` for one viewer, in one query.

    ``video_owner_ids`` maps each video id (str) to its creator's user id. (One round trip
    instead of three: this runs on every feed page.)
    """
    ids = list(video_owner_ids)
    if not ids or viewer is None or not viewer.is_authenticated:
        return {}
    found: dict[str, set[str]] = {"liked": set(), "favorited": set(), "following": set()}
    params = {"viewer": viewer.pk, "videos": ids, "owners": sorted(set(video_owner_ids.values()))}
    with connections[db_router.choose_read_alias()].cursor() as cursor:
        cursor.execute(VIEWER_FLAGS_SQL, params)
        for kind, value in cursor.fetchall():
            found[kind].add(value)
    return {
        video_id: {
            "liked": video_id in found["liked"],
            "favorited": video_id in found["favorited"],
            "following": str(owner_id) in found["following"],
        }
        for video_id, owner_id in video_owner_ids.items()
    }


# --- Video cards with the viewer's flags ----------------------------------------------


def with_viewer_state(owned: Iterable[OwnedCard], *, viewer, hidden: frozenset[int]) -> list[dict]:
    """The cards of ``owned`` (``videos.selectors.owned_cards``) without those of ``hidden``
    creators, each with the viewer's flags (one query; none for anonymous readers)."""
    kept = [item for item in owned if item.owner_id not in hidden]
    if viewer is not None and viewer.is_authenticated:
        flags = viewer_flags(viewer=viewer, video_owner_ids={item.card["id"]: item.owner_id for item in kept})
        for item in kept:
            item.card["viewer"] = flags.get(item.card["id"])
    return [item.card for item in kept]


def video_cards(*, video_ids: Iterable, viewer=None, hidden: frozenset[int] | None = None) -> list[dict]:
    """Cards for ``video_ids`` in order with the viewer's flags, without the videos of users
    the viewer blocked, muted or is blocked by (``hidden``: ``activity.visibility.relations.viewer_hidden_ids``,
    looked up when not given)."""
    hidden = relations.viewer_hidden_ids(viewer) if hidden is None else hidden
    return with_viewer_state(
        video_selectors.owned_cards(video_ids=video_ids, viewer=viewer), viewer=viewer, hidden=hidden
    )


# --- Comments -------------------------------------------------------------------------

COMMENT_ORDERS = ("newest", "oldest")


def comments_page(*, video, order: str = "newest", cursor: str | None, limit: int, viewer=None) -> Page:
    """Visible comments of ``video`` (a public video) with their authors, one query;
    without those of users the viewer blocked, muted or is blocked by."""
    if order not in COMMENT_ORDERS:
        raise ApplicationError("order must be 'newest' or 'oldest'.", fields={"order": ["newest or oldest."]})
    queryset = Comment.objects.filter(
        video=video, state=CommentState.VISIBLE, author__suspended_at__isnull=True
    ).select_related("author")
    hidden = relations.viewer_hidden_ids(viewer)
    if hidden:
        queryset = queryset.exclude(author_id__in=hidden)
    return keyset_page(queryset, cursor=cursor, limit=limit, descending=order == "newest")


# --- A user's likes and favorites -----------------------------------------------------


def _video_relation_page(*, queryset, viewer, cursor: str | None, limit: int) -> Page:
    page = keyset_page(
        queryset.filter(public_video_q("video__")).only("id", "created_at", "video_id"), cursor=cursor, limit=limit
    )
    page.items = video_cards(video_ids=[row.video_id for row in page.items], viewer=viewer)
    return page


def liked_videos_page(*, user, cursor: str | None, limit: int) -> Page:
    """Cards of the public videos ``user`` liked, most recent like first."""
    return _video_relation_page(queryset=Like.objects.filter(user=user), viewer=user, cursor=cursor, limit=limit)


def favorite_videos_page(*, user, cursor: str | None, limit: int) -> Page:
    """Cards of the public videos ``user`` favorited, most recent favorite first."""
    return _video_relation_page(queryset=Favorite.objects.filter(user=user), viewer=user, cursor=cursor, limit=limit)


# --- Views ----------------------------------------------------------------------------


RECENT_VIEWS_LIMIT = 500


def recent_views(*, viewer_id: int, since: datetime, limit: int = RECENT_VIEWS_LIMIT) -> list[str]:
    """Ids of the videos ``viewer_id`` viewed since ``since``, most recent first, distinct.

    Reads at most ``limit`` view rows (one indexed query).
    """
    seen: dict[str, None] = {}
    rows = (
        View.objects.filter(viewer_id=viewer_id, created_at__gte=since)
        .order_by("-created_at")
        .values_list("video_id", flat=True)[:limit]
    )
    for video_id in rows:
        seen.setdefault(str(video_id), None)
    return list(seen)
