"""Output shapes for users, shared by every endpoint that shows a user."""

from rest_framework import serializers


class CreatorOutput(serializers.Serializer):
    username = serializers.CharField()
    display_name = serializers.CharField()


class ProfileCountsOutput(serializers.Serializer):
    followers = serializers.IntegerField(source="followers_count")
    following = serializers.IntegerField(source="following_count")


class ProfileViewerOutput(serializers.Serializer):
    following = serializers.BooleanField()


class ProfileOutput(serializers.Serializer):
    username = serializers.CharField()
    display_name = serializers.CharField()
    bio = serializers.CharField()
    date_joined = serializers.DateTimeField()
    counts = ProfileCountsOutput(source="*")
    viewer = ProfileViewerOutput(required=False, allow_null=True)


def profile_data(user, *, viewer_following: bool | None) -> dict:
    """A user's public profile; ``viewer`` is null for anonymous readers."""
    data = ProfileOutput(user).data
    data["viewer"] = None if viewer_following is None else {"following": viewer_following}
    return data
