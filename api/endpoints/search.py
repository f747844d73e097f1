"""``/search``: users (username or display-name prefix, typo tolerant), videos (caption
words and hashtags, ranked) or hashtags (name prefix).

Results carry the viewer's own state (follow flags on users, like/favorite/follow flags on
video cards). The selectors live with their data: ``accounts.search`` (users),
``videos.search`` (videos, hashtags); everything reads a replica through the router.
Ranked results page by offset (``api.paging.offset_from_cursor``).
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import search as account_search
from activity.graph import selectors
from activity.visibility import relations
from api import cards
from api.paging import offset_from_cursor, offset_page
from api.serializers.search import SearchPageOutput, hashtag_data
from tiktok.exceptions import ApplicationError
from tiktok.pagination import page_limit
from videos import search as video_search

SEARCH_TYPES = ("users", "videos", "hashtags")


def _search_query(raw: str | None) -> str:
    query = (raw or "").strip()
    limit = settings.SEARCH_QUERY_MAX_LENGTH
    if not query:
        raise ApplicationError("q must not be empty.", code="invalid_query", fields={"q": ["Type something."]})
    if len(query) > limit:
        raise ApplicationError(
            f"q is at most {limit} characters.", code="invalid_query", fields={"q": [f"At most {limit} characters."]}
        )
    return query


def _users(rows: list[dict], *, viewer) -> list[dict]:
    signed_in = viewer is not None and viewer.is_authenticated
    blocked = relations.viewer_blocked_ids(viewer)  # a page may be shorter; it never leaks
    rows = [row for row in rows if row["id"] not in blocked]
    followed = selectors.following_ids(follower=viewer, user_ids=[row["id"] for row in rows])
    return [
        {
            "username": row["username"],
            "display_name": row["display_name"],
            "followers_count": row["followers_count"],
            "following": (row["id"] in followed) if signed_in else None,
        }
        for row in rows
    ]


class SearchApi(APIView):
    """Search users (username or display-name prefix, typo tolerant), videos (caption words
    and hashtags, ranked) or hashtags (name prefix). Suspended users and their videos,
    hidden, removed and unfinished videos never appear."""

    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, required=True, description="1 to 100 characters."),
            OpenApiParameter("type", str, enum=list(SEARCH_TYPES), description="Default videos."),
            OpenApiParameter("cursor", str, description="next_cursor of the previous page."),
            OpenApiParameter("limit", int, description="Items per page (default 10, at most 50)."),
        ],
        responses={200: SearchPageOutput},
        auth=[{"BearerAuth": []}, {}],
    )
    def get(self, request):
        params = request.query_params
        kind = params.get("type") or "videos"
        if kind not in SEARCH_TYPES:
            raise ApplicationError(
                f"type must be one of {', '.join(SEARCH_TYPES)}.", fields={"type": [", ".join(SEARCH_TYPES)]}
            )
        query = _search_query(params.get("q"))
        limit = page_limit(params.get("limit"))
        offset = offset_from_cursor(params.get("cursor"), kind=kind, query=query)
        if kind == "users":
            rows = account_search.user_search(query=query, offset=offset, limit=limit + 1)
            rows, next_cursor = offset_page(rows, offset=offset, limit=limit, kind=kind, query=query)
            items = _users(rows, viewer=request.user)
        elif kind == "videos":
            ids = video_search.video_search_ids(query=query, offset=offset, limit=limit + 1)
            ids, next_cursor = offset_page(ids, offset=offset, limit=limit, kind=kind, query=query)
            items = cards.video_cards(video_ids=ids, viewer=request.user)
        else:
            tags = video_search.hashtag_search(query=query, offset=offset, limit=limit + 1)
            tags, next_cursor = offset_page(tags, offset=offset, limit=limit, kind=kind, query=query)
            items = [hashtag_data(tag) for tag in tags]
        return Response({"type": kind, "items": items, "next_cursor": next_cursor})
