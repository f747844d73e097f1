"""Output shapes of search and hashtags."""

from rest_framework import serializers

from api.serializers.videos import VideoCardOutput


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


def hashtag_data(hashtag) -> dict:
    return {"tag": hashtag.name, "video_count": hashtag.video_count}
