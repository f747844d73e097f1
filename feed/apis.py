"""Feed endpoints: the personal feed, trending, and (bench settings only) baselines."""

import time

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from feed import services
from tiktok import metrics
from tiktok.exceptions import NotFoundError
from tiktok.pagination import page_limit

PAGE_PARAMETERS = [
    OpenApiParameter("cursor", str, description="Opaque cursor from the previous page's next_cursor."),
    OpenApiParameter("limit", int, description="Items per page, 1 to 50 (default 10)."),
]

FeedPageOutput = inline_serializer(
    "FeedPageOutput",
    {
        "items": serializers.ListField(child=serializers.DictField(), help_text="Video cards."),
        "next_cursor": serializers.CharField(allow_null=True),
        "source": serializers.ChoiceField(choices=["following", "trending"]),
    },
)


def page_response(page: services.FeedPage) -> Response:
    response = Response({"items": page.items, "next_cursor": page.next_cursor, "source": page.source})
    response["X-Feed-Source"] = page.source
    if page.degraded:
        response["X-Feed-Degraded"] = "redis-unavailable"
    return response


class FeedApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=PAGE_PARAMETERS, responses={200: FeedPageOutput})
    def get(self, request):
        started = time.perf_counter()
        limit = page_limit(request.query_params.get("limit"))
        page = services.feed_page(viewer=request.user, cursor=request.query_params.get("cursor"), limit=limit)
        if page.degraded:
            metrics.count_feed_event("degraded")
        metrics.observe_feed_request(time.perf_counter() - started)
        return page_response(page)


class TrendingFeedApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(parameters=PAGE_PARAMETERS, responses={200: FeedPageOutput})
    def get(self, request):
        limit = page_limit(request.query_params.get("limit"))
        cursor = services.Cursor.decode(request.query_params.get("cursor"))
        if cursor.kind != "t":
            cursor = services.Cursor(kind="t")
        return page_response(services.trending_feed_page(viewer=request.user, cursor=cursor, limit=limit))


class BenchSqlFeedApi(APIView):
    """The same page computed on demand in SQL (bench settings only)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(exclude=True)
    def get(self, request):
        if not settings.BENCH_ENDPOINTS:
            raise NotFoundError("No such resource.")
        limit = page_limit(request.query_params.get("limit"))
        return page_response(
            services.pull_feed_page(viewer=request.user, cursor=request.query_params.get("cursor"), limit=limit)
        )


class BenchFloorApi(APIView):
    """A minimal authenticated JSON view: the framework's floor (bench settings only)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(exclude=True)
    def get(self, request):
        if not settings.BENCH_ENDPOINTS:
            raise NotFoundError("No such resource.")
        return Response({"user": request.user.pk})
