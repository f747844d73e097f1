"""Output shapes of videos; the video card is the one every endpoint returns."""

from rest_framework import serializers

from api.serializers.uploads import UploadOutput
from api.serializers.users import CreatorOutput


class VideoCountsOutput(serializers.Serializer):
    likes = serializers.IntegerField()
    favorites = serializers.IntegerField()
    comments = serializers.IntegerField()
    views = serializers.IntegerField()


class VideoViewerOutput(serializers.Serializer):
    liked = serializers.BooleanField()
    favorited = serializers.BooleanField()
    following = serializers.BooleanField()


class VideoCardOutput(serializers.Serializer):
    """A video as every endpoint shows it (``api.cards``)."""

    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=["awaiting_upload", "processing", "ready", "failed"])
    moderation = serializers.ChoiceField(choices=["visible", "hidden", "removed"])
    caption = serializers.CharField()
    creator = CreatorOutput()
    hls_url = serializers.URLField(allow_null=True, help_text="HLS master playlist (CDN or short-lived signed URL).")
    poster_url = serializers.URLField(allow_null=True)
    duration = serializers.FloatField(allow_null=True, help_text="Seconds.")
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    published_at = serializers.DateTimeField(allow_null=True)
    counts = VideoCountsOutput()
    viewer = VideoViewerOutput(allow_null=True, help_text="Null for anonymous readers.")
    failure_reason = serializers.CharField(required=False, help_text="Only on the owner's own videos.")


class VideoCardPageOutput(serializers.Serializer):
    items = VideoCardOutput(many=True)
    next_cursor = serializers.CharField(allow_null=True)


class VideoUploadOutput(UploadOutput):
    pass


class VideoCreateOutput(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    upload = VideoUploadOutput()
