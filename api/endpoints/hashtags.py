"""``/hashtags/<tag>``: a hashtag and its public videos (``videos.hashtags``, ``videos.search``)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from api import cards
from api.paging import offset_from_cursor, offset_page
from api.serializers.search import HashtagOutput, HashtagVideoPageOutput, hashtag_data
from tiktok.exceptions import ApplicationError
from tiktok.pagination import Page, page_limit
from videos import hashtags
from videos import search as video_search


class HashtagDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses={200: HashtagOutput}, auth=[{"BearerAuth": []}, {}])
    def get(self, request, tag: str):
        return Response(hashtag_data(hashtags.hashtag_get(name=tag)))


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
        items = cards.video_cards_for_videos(videos=page.items, viewer=request.user)
        return Response({"items": items, "next_cursor": page.next_cursor})
