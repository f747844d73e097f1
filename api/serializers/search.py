"""Output shapes of search and hashtags."""

from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers

from api.serializers.videos import VideoCardOutput


class SearchUserOutput(serializers.Serializer):
    username = serializers.CharField()
    display_name = serializers.CharField()
    followers_count = serializers.IntegerField()
    following = serializers.BooleanField(allow_null=True, help_text="Does the viewer follow them (null: anonymous)?")


class HashtagOutput(serializers.Serializer):
    tag = serializers.CharField(help_text="Normalised name, without '#'.")
    video_count = serializers.IntegerField(
        help_text="Public videos with this tag (moves as they are published or withdrawn)."
    )


class _SearchPage(serializers.Serializer):
    next_cursor = serializers.CharField(allow_null=True)


class SearchUsersPageOutput(_SearchPage):
    type = serializers.ChoiceField(choices=["users"])
    items = SearchUserOutput(many=True)


class SearchVideosPageOutput(_SearchPage):
    type = serializers.ChoiceField(choices=["videos"])
    items = VideoCardOutput(many=True)


class SearchHashtagsPageOutput(_SearchPage):
    type = serializers.ChoiceField(choices=["hashtags"])
    items = HashtagOutput(many=True)


# One page shape per ``type``, told apart by the page's own ``type`` member, so a generated
# client gets typed items for each.
SearchPageOutput = PolymorphicProxySerializer(
    component_name="SearchPage",
    serializers={
        "users": SearchUsersPageOutput,
        "videos": SearchVideosPageOutput,
        "hashtags": SearchHashtagsPageOutput,
    },
    resource_type_field_name="type",
)


class HashtagVideoPageOutput(serializers.Serializer):
    items = VideoCardOutput(many=True)
    next_cursor = serializers.CharField(allow_null=True)


def hashtag_data(hashtag) -> dict:
    return {"tag": hashtag.name, "video_count": hashtag.video_count}
