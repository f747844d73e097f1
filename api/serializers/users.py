"""Output shapes of users: profiles (shared by every endpoint that shows a user), the
signed-in user, tokens and avatar uploads."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers.uploads import UploadOutput
from tiktok.media_storage import file_url


@extend_schema_field({"type": "string", "format": "uri", "nullable": True})
class FileUrlField(serializers.Field):
    """A model's stored file shown as its signed URL, what the client fetches (null when empty)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return file_url(value)


class CreatorOutput(serializers.Serializer):
    username = serializers.CharField()
    display_name = serializers.CharField()
    avatar_url = serializers.URLField(allow_null=True, help_text="Profile picture (320 px); null until one is ready.")


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
    avatar_url = FileUrlField(source="avatar", help_text="Profile picture (320 px); null until one is ready.")
    avatar_thumbnail_url = FileUrlField(source="avatar_thumbnail", help_text="96 px; null until one is ready.")
    counts = ProfileCountsOutput(source="*")
    viewer = ProfileViewerOutput(required=False, allow_null=True)


def profile_data(user, *, viewer_following: bool | None) -> dict:
    """A user's public profile; ``viewer`` is null for anonymous readers."""
    data = ProfileOutput(user).data
    data["viewer"] = None if viewer_following is None else {"following": viewer_following}
    return data


class MeOutput(ProfileOutput):
    email = serializers.CharField(help_text="Empty when none was given.")
    avatar_status = serializers.CharField(
        help_text='The last avatar upload: "" (none), awaiting_upload, processing, ready or failed.'
    )
    avatar_failure_reason = serializers.CharField(help_text="Why the last avatar upload was refused.")


class TokenOutput(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Bearer <token>`; shown once.")
    expires_at = serializers.DateTimeField(allow_null=True, help_text="When the token stops working.")


class AvatarUploadOutput(UploadOutput):
    pass


class AvatarCreateOutput(serializers.Serializer):
    upload = AvatarUploadOutput()


class AvatarStateOutput(serializers.Serializer):
    avatar_status = serializers.CharField(
        help_text='The last avatar upload: "" (none), awaiting_upload, processing, ready or failed.'
    )
    avatar_failure_reason = serializers.CharField()
    avatar_url = serializers.URLField(allow_null=True, help_text="Null until an avatar is ready.")
    avatar_thumbnail_url = serializers.URLField(allow_null=True)


class RelatedUserOutput(serializers.Serializer):
    username = serializers.CharField()
    display_name = serializers.CharField()
    since = serializers.DateTimeField(help_text="When the block or mute was made.")


class RelatedUserPageOutput(serializers.Serializer):
    items = RelatedUserOutput(many=True)
    next_cursor = serializers.CharField(allow_null=True)


class BlockStateOutput(serializers.Serializer):
    blocked = serializers.BooleanField()


class MuteStateOutput(serializers.Serializer):
    muted = serializers.BooleanField()
