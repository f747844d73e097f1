"""Output shapes of the feeds: following, trending and For You pages."""

from rest_framework import serializers

from api.serializers.videos import VideoCardOutput
from discovery import for_you


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
