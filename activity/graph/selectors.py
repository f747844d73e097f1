"""Reads of the social graph: whom a viewer follows, and follow lists.

Contract used by other apps (keep this signature): ``following_ids``. Every list is
keyset-paginated and runs a fixed number of queries whatever the page size.
"""

from __future__ import annotations

from collections.abc import Iterable

from activity.models import Follow
from activity.visibility import relations
from tiktok.pagination import Page, keyset_page


def following_ids(*, follower, user_ids: Iterable[int]) -> set[int]:
    """Which of ``user_ids`` the ``follower`` follows, in one query."""
    ids = list(user_ids)
    if not ids or follower is None or not follower.is_authenticated:
        return set()
    return set(Follow.objects.filter(follower=follower, followee_id__in=ids).values_list("followee_id", flat=True))


# --- Follow lists ---------------------------------------------------------------------


def _follow_page(*, queryset, other: str, viewer, cursor: str | None, limit: int) -> Page:
    """A page of follows shown as the users on the ``other`` side of each follow (never a
    user the viewer blocked or is blocked by)."""
    blocked = relations.viewer_blocked_ids(viewer)
    if blocked:
        queryset = queryset.exclude(**{f"{other}_id__in": blocked})
    page = keyset_page(
        queryset.filter(**{f"{other}__is_active": True, f"{other}__suspended_at__isnull": True}).select_related(other),
        cursor=cursor,
        limit=limit,
    )
    users = [getattr(follow, other) for follow in page.items]
    followed = following_ids(follower=viewer, user_ids=[user.pk for user in users])
    signed_in = viewer is not None and viewer.is_authenticated
    page.items = [
        {
            "username": user.username,
            "display_name": user.display_name,
            "followed_at": follow.created_at,
            "following": (user.pk in followed) if signed_in else None,
        }
        for follow, user in zip(page.items, users, strict=True)
    ]
    return page


def followers_page(*, user, viewer, cursor: str | None, limit: int) -> Page:
    """Who follows ``user``, newest follow first; ``following``: does the viewer follow them."""
    return _follow_page(
        queryset=Follow.objects.filter(followee=user), other="follower", viewer=viewer, cursor=cursor, limit=limit
    )


def following_page(*, user, viewer, cursor: str | None, limit: int) -> Page:
    """Whom ``user`` follows, newest follow first; ``following``: does the viewer follow them."""
    return _follow_page(
        queryset=Follow.objects.filter(follower=user), other="followee", viewer=viewer, cursor=cursor, limit=limit
    )
