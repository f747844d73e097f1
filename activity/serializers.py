"""Output shapes of the activity endpoints (inputs live with their views in apis.py).

Component names are unique across the project: drf-spectacular refuses duplicates.
"""

from rest_framework import serializers

from videos.serializers import VideoCardOutput


class CommentAuthorOutput(serializers.Serializer):
    username = serializers.CharField()
    display_name = serializers.CharField()


class CommentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    author = CommentAuthorOutput()
    created_at = serializers.DateTimeField()
    video_id = serializers.UUIDField()


class CommentPageOutput(serializers.Serializer):
    items = CommentOutput(many=True)
    next_cursor = serializers.CharField(allow_null=True)


class FollowUserOutput(serializers.Serializer):
    username = serializers.CharField()
    display_name = serializers.CharField()
    followed_at = serializers.DateTimeField()
    following = serializers.BooleanField(allow_null=True, help_text="Whether the signed-in viewer follows this user.")


class FollowUserPageOutput(serializers.Serializer):
    items = FollowUserOutput(many=True)
    next_cursor = serializers.CharField(allow_null=True)


class FollowCountsOutput(serializers.Serializer):
    followers = serializers.IntegerField(source="followers_count")
    following = serializers.IntegerField(source="following_count")


class FollowStateOutput(serializers.Serializer):
    following = serializers.BooleanField()
    counts = FollowCountsOutput(help_text="The followed user's counts (eventually consistent).")


class LikeStateOutput(serializers.Serializer):
    liked = serializers.BooleanField()


class FavoriteStateOutput(serializers.Serializer):
    favorited = serializers.BooleanField()


class ActivityVideoPageOutput(serializers.Serializer):
    items = VideoCardOutput(many=True, help_text="Video cards, as in the feed.")
    next_cursor = serializers.CharField(allow_null=True)


class ViewRecordOutput(serializers.Serializer):
    recorded = serializers.BooleanField()
