"""``/feed/for-you``: a page of the viewer's ranked list, each card with why it is there
(spliced from the cards' JSON bytes as the following feed is, on the same short GET dispatch)."""

from drf_spectacular.utils import extend_schema

from api.base import AuthenticatedReadApiView
from api.endpoints.feed import FEED_PAGE_PARAMETERS, page_response
from api.serializers.feed import ForYouPageOutput
from discovery import for_you
from tiktok import metrics
from tiktok.pagination import page_limit


class ForYouFeedApi(AuthenticatedReadApiView):
    @extend_schema(parameters=FEED_PAGE_PARAMETERS, responses={200: ForYouPageOutput})
    def get(self, request):
        limit = page_limit(request.query_params.get("limit"))
        page = for_you.for_you_page(viewer=request.user, cursor=request.query_params.get("cursor"), limit=limit)
        if page.degraded:
            metrics.count_feed_event("degraded")
        return page_response(page)
