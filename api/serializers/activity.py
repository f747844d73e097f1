"""Output shapes of activity: comments, follows, likes, favorites, views, notifications."""

from rest_framework import serializers

from api.serializers.videos import VideoCardOutput


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


class NotificationActorOutput(serializers.Serializer):
    username = serializers.CharField()
    display_name = serializers.CharField()
    avatar_url = serializers.CharField(allow_null=True)


class NotificationVideoOutput(serializers.Serializer):
    id = serializers.UUIDField()
    poster_url = serializers.CharField(allow_null=True)


class NotificationCommentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()


class NotificationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=["follow", "like", "comment", "mention"])
    actors = NotificationActorOutput(many=True, help_text="The latest few actors, newest first.")
    actor_count = serializers.IntegerField(help_text="Every actor of this item (exact).")
    video = NotificationVideoOutput(allow_null=True)
    comment = NotificationCommentOutput(allow_null=True)
    created_at = serializers.DateTimeField()
    read = serializers.BooleanField()


class NotificationPageOutput(serializers.Serializer):
    items = NotificationOutput(many=True)
    next_cursor = serializers.CharField(allow_null=True)
    unread_count = serializers.IntegerField()


class UnreadCountOutput(serializers.Serializer):
    count = serializers.IntegerField()
