"""Discovery endpoints: search (users, videos, hashtags) and hashtag pages.

Composed here because results carry the viewer's own state (follow flags on users,
like/favorite/follow flags on video cards). The selectors live with their data:
``accounts.search`` (users), ``videos.search`` (videos, hashtags), ``videos.hashtags``.
Everything reads a replica through the router.

Ranked results page by offset: the cursor is signed (``tiktok.cursors``), names the list
and the query it belongs to, and stops at ``SEARCH_MAX_OFFSET``.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import search as account_search
from activity import relations, selectors
from tiktok import cursors
from tiktok.exceptions import ApplicationError
from tiktok.pagination import Page, page_limit
from videos import hashtags
from videos import search as video_search
from videos.serializers import VideoCardOutput

SEARCH_TYPES = ("users", "videos", "hashtags")


# --- Offset cursors -------------------------------------------------------------------


def _list_id(kind: str, query: str) -> str:
    return f"{kind}:{hashlib.blake2b(query.encode(), digest_size=6).hexdigest()}"


def offset_from_cursor(raw: str | None, *, kind: str, query: str) -> int:
    """The offset a cursor of this list (kind and query) points at; 0 without a cursor."""
    if not raw:
        return 0
    payload = cursors.unsign(raw)
    if payload.get("l") != _list_id(kind, query):
        raise cursors.InvalidCursorError()
    return cursors.bounded_int(payload.get("o"), low=1, high=settings.SEARCH_MAX_OFFSET)


def offset_page(rows: list, *, offset: int, limit: int, kind: str, query: str) -> tuple[list, str | None]:
    """``rows`` were read with ``limit + 1``: the page and the cursor of the next one."""
    more = len(rows) > limit
    following = offset + limit
    if not more or following > settings.SEARCH_MAX_OFFSET:
        return rows[:limit], None
    return rows[:limit], cursors.sign({"l": _list_id(kind, query), "o": following})


# --- Output shapes ----------------------------------------------------------------------


class SearchUserOutput(serializers.Serializer):
    username = serializers.CharField()
    display_name = serializers.CharField()
    followers_count = serializers.IntegerField()
    following = serializers.BooleanField(allow_null=True, help_text="Does the viewer follow them (null: anonymous)?")


class HashtagOutput(serializers.Serializer):
    tag = serializers.CharField(help_text="Normalised name, without '#'.")
    video_count = serializers.IntegerField(help_text="Public videos with this tag (recounted every few minutes).")


class SearchPageOutput(serializers.Serializer):
    items = serializers.ListField(
        child=serializers.DictField(), help_text="SearchUser, video card or Hashtag objects, by type."
    )
    next_cursor = serializers.CharField(allow_null=True)


class HashtagVideoPageOutput(serializers.Serializer):
    items = VideoCardOutput(many=True)
    next_cursor = serializers.CharField(allow_null=True)


def _hashtag_item(hashtag) -> dict:
    return {"tag": hashtag.name, "video_count": hashtag.video_count}


# --- Views ------------------------------------------------------------------------------


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
            items = self._users(rows, viewer=request.user)
        elif kind == "videos":
            ids = video_search.video_search_ids(query=query, offset=offset, limit=limit + 1)
            ids, next_cursor = offset_page(ids, offset=offset, limit=limit, kind=kind, query=query)
            items = selectors.video_cards(video_ids=ids, viewer=request.user)
        else:
            tags = video_search.hashtag_search(query=query, offset=offset, limit=limit + 1)
            tags, next_cursor = offset_page(tags, offset=offset, limit=limit, kind=kind, query=query)
            items = [_hashtag_item(tag) for tag in tags]
        return Response({"items": items, "next_cursor": next_cursor})

    @staticmethod
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


class HashtagDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses={200: HashtagOutput}, auth=[{"BearerAuth": []}, {}])
    def get(self, request, tag: str):
        return Response(_hashtag_item(hashtags.hashtag_get(name=tag)))


class HashtagVideosApi(APIView):
    """Public videos with the tag: newest published first, or ``sort=top`` by engagement."""

    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[
            OpenApiParameter("sort", str, enum=list(video_search.HASHTAG_SORTS), description="Default newest."),
            OpenApiParameter("cursor", str, description="next_cursor of the previous page."),
            OpenApiParameter("limit", int, description="Items per page (default 10, at most 50)."),
        ],
        responses={200: HashtagVideoPageOutput},
        auth=[{"BearerAuth": []}, {}],
    )
    def get(self, request, tag: str):
        params = request.query_params
        sort = params.get("sort") or "newest"
        if sort not in video_search.HASHTAG_SORTS:
            raise ApplicationError("sort must be 'newest' or 'top'.", fields={"sort": ["newest or top."]})
        limit = page_limit(params.get("limit"))
        hashtag = hashtags.hashtag_get(name=tag)
        if sort == "newest":
            page = video_search.hashtag_videos_newest(hashtag=hashtag, cursor=params.get("cursor") or None, limit=limit)
        else:
            list_kind = f"hashtag-top:{hashtag.pk}"
            offset = offset_from_cursor(params.get("cursor"), kind=list_kind, query="")
            videos = video_search.hashtag_videos_top(hashtag=hashtag, offset=offset, limit=limit + 1)
            page = Page(*offset_page(videos, offset=offset, limit=limit, kind=list_kind, query=""))
        items = selectors.video_cards_for_videos(videos=page.items, viewer=request.user)
        return Response({"items": items, "next_cursor": page.next_cursor})
