"""``/feed``: the personal (following) feed and trending.

Pages are spliced from bytes (``page_response``): a warm page's cards arrive from Redis as
JSON and are not parsed again.
"""

import time

import orjson
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from api.base import AuthenticatedReadApiView
from api.serializers.feed import FeedPageOutput
from feed import pages
from tiktok import metrics
from tiktok.pagination import page_limit

FEED_PAGE_PARAMETERS = [
    OpenApiParameter("cursor", str, description="Opaque cursor from the previous page's next_cursor."),
    OpenApiParameter("limit", int, description="Items per page, 1 to 50 (default 10)."),
]


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
    @extend_schema(parameters=FEED_PAGE_PARAMETERS, responses={200: FeedPageOutput})
    def get(self, request):
        started = time.perf_counter()
        limit = page_limit(request.query_params.get("limit"))
        page = pages.feed_page(viewer=request.user, cursor=request.query_params.get("cursor"), limit=limit)
        if page.degraded:
            metrics.count_feed_event("degraded")
        metrics.observe_feed_request(time.perf_counter() - started)
        return page_response(page)


class TrendingFeedApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(parameters=FEED_PAGE_PARAMETERS, responses={200: FeedPageOutput})
    def get(self, request):
        limit = page_limit(request.query_params.get("limit"))
        cursor = pages.Cursor.decode(request.query_params.get("cursor"))
        if cursor.kind != "t":
            cursor = pages.Cursor(kind="t")
        return page_response(pages.trending_feed_page(viewer=request.user, cursor=cursor, limit=limit))
