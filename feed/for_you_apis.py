"""The For You endpoint: a page of the viewer's ranked list, each card with why it is there
(spliced from the cards' JSON bytes as the following feed is, on the same short GET dispatch)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from discovery import for_you
from feed.apis import PAGE_PARAMETERS, page_response
from tiktok import metrics
from tiktok.api_views import AuthenticatedReadApiView
from tiktok.pagination import page_limit
from videos.serializers import VideoCardOutput


class ForYouRankOutput(serializers.Serializer):
    score = serializers.FloatField()
    reasons = serializers.ListField(
        child=serializers.CharField(), help_text='Why the card is here, e.g. "liked #cats videos", "trending".'
    )


class ForYouCardOutput(VideoCardOutput):
    rank = ForYouRankOutput()


class ForYouPageOutput(serializers.Serializer):
    items = ForYouCardOutput(many=True)
    next_cursor = serializers.CharField(allow_null=True)
    source = serializers.ChoiceField(choices=[for_you.SOURCE])


class ForYouFeedApi(AuthenticatedReadApiView):
    @extend_schema(parameters=PAGE_PARAMETERS, responses={200: ForYouPageOutput})
    def get(self, request):
        limit = page_limit(request.query_params.get("limit"))
        page = for_you.for_you_page(viewer=request.user, cursor=request.query_params.get("cursor"), limit=limit)
        if page.degraded:
            metrics.count_feed_event("degraded")
        return page_response(page)
