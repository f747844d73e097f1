"""Feed endpoints: the personal feed and trending."""

import time

import orjson
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from activity import services as activity_services
from activity.serializers import ViewRecordOutput
from feed import pages, services
from tiktok import metrics
from tiktok.api_views import AuthenticatedReadApiView
from tiktok.pagination import page_limit
from tiktok.throttles import WriteThrottle
from videos.serializers import VideoCardOutput

PAGE_PARAMETERS = [
    OpenApiParameter("cursor", str, description="Opaque cursor from the previous page's next_cursor."),
    OpenApiParameter("limit", int, description="Items per page, 1 to 50 (default 10)."),
]


class FeedRankOutput(serializers.Serializer):
    """Why a trending card ranks where it does (``feed.services.trending_recompute``)."""

    score = serializers.FloatField()
    likes = serializers.IntegerField()
    comments = serializers.IntegerField()
    views = serializers.IntegerField()
    completion = serializers.FloatField()
    age_hours = serializers.FloatField()


class FeedCardOutput(VideoCardOutput):
    rank = FeedRankOutput(required=False, help_text="Trending cards only.")


class FeedPageOutput(serializers.Serializer):
    items = FeedCardOutput(many=True)
    next_cursor = serializers.CharField(allow_null=True)
    source = serializers.ChoiceField(choices=["following", "trending"])


def page_response(page: pages.FeedPage) -> HttpResponse:
    """The page as JSON, spliced from bytes: a warm page's cards arrive from Redis as JSON
    and are not parsed again; the others (dicts) are serialised here, the same shape."""
    items = b",".join(item if isinstance(item, bytes) else orjson.dumps(item) for item in page.items)
    body = b'{"items":[%s],"next_cursor":%s,"source":%s}' % (
        items,
        orjson.dumps(page.next_cursor),
        orjson.dumps(page.source),
    )
    response = HttpResponse(body, content_type="application/json")
    response["X-Feed-Source"] = page.source
    if page.degraded:
        response["X-Feed-Degraded"] = "redis-unavailable"
    return response


class FeedApi(AuthenticatedReadApiView):
    @extend_schema(parameters=PAGE_PARAMETERS, responses={200: FeedPageOutput})
    def get(self, request):
        started = time.perf_counter()
        limit = page_limit(request.query_params.get("limit"))
        page = pages.feed_page(viewer=request.user, cursor=request.query_params.get("cursor"), limit=limit)
        if page.degraded:
            metrics.count_feed_event("degraded")
        metrics.observe_feed_request(time.perf_counter() - started)
        return page_response(page)


class ViewRecordApi(APIView):
    """Record an impression (at most one per viewer and video per hour counts); later feed
    pages skip the video. Served here because the seen state belongs to the feed."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [WriteThrottle]

    class ViewRecordInput(serializers.Serializer):
        watched_ms = serializers.IntegerField(min_value=0, max_value=activity_services.VIEW_MAX_WATCHED_MS)

    @extend_schema(request=ViewRecordInput, responses={202: ViewRecordOutput})
    def post(self, request, video_id: str):
        data = self.ViewRecordInput(data=request.data)
        data.is_valid(raise_exception=True)
        view = activity_services.view_record(viewer=request.user, video_id=video_id, **data.validated_data)
        services.video_seen(viewer_id=request.user.pk, video_id=view.video_id)
        return Response({"recorded": view.recorded}, status=status.HTTP_202_ACCEPTED)


class TrendingFeedApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(parameters=PAGE_PARAMETERS, responses={200: FeedPageOutput})
    def get(self, request):
        limit = page_limit(request.query_params.get("limit"))
        cursor = pages.Cursor.decode(request.query_params.get("cursor"))
        if cursor.kind != "t":
            cursor = pages.Cursor(kind="t")
        return page_response(pages.trending_feed_page(viewer=request.user, cursor=cursor, limit=limit))
