"""Baselines the feed is measured against (``bench.settings`` only).

``sql``: the same page as ``GET /api/v1/feed``, computed on demand in SQL on the replica
(the pull model on its own). ``floor``: token authentication and a tiny JSON response,
the least an authenticated API view costs in this stack: the same short GET dispatch as
``GET /api/v1/feed`` (``api.base.AuthenticatedReadApiView``).
"""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from api.base import AuthenticatedReadApiView
from api.endpoints.feed import page_response
from feed.pages import pull_feed_page
from tiktok.pagination import page_limit


class BenchSqlFeedApi(AuthenticatedReadApiView):
    @extend_schema(exclude=True)
    def get(self, request):
        limit = page_limit(request.query_params.get("limit"))
        page = pull_feed_page(viewer=request.user, cursor=request.query_params.get("cursor"), limit=limit)
        return page_response(page)


class BenchFloorApi(AuthenticatedReadApiView):
    @extend_schema(exclude=True)
    def get(self, request):
        return Response({"user": request.user.pk})
