"""Avatar endpoints: start an upload (presigned PUT), then hand it to the worker."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import avatars
from tiktok.throttles import UploadThrottle


class AvatarUploadOutput(serializers.Serializer):
    method = serializers.CharField()
    url = serializers.URLField()
    headers = serializers.DictField(child=serializers.CharField(), help_text="Send these headers with the PUT.")
    expires_at = serializers.DateTimeField()


class AvatarCreateOutput(serializers.Serializer):
    upload = AvatarUploadOutput()


class AvatarStateOutput(serializers.Serializer):
    avatar_status = serializers.CharField(
        help_text='The last avatar upload: "" (none), awaiting_upload, processing, ready or failed.'
    )
    avatar_failure_reason = serializers.CharField()
    avatar_url = serializers.URLField(allow_null=True, help_text="Null until an avatar is ready.")
    avatar_thumbnail_url = serializers.URLField(allow_null=True)


def avatar_state(user) -> dict:
    return {
        "avatar_status": user.avatar_status,
        "avatar_failure_reason": user.avatar_failure_reason,
        **avatars.avatar_urls(user),
    }


class AvatarUploadApi(APIView):
    """Start an avatar upload: PUT the image bytes to the returned URL, then complete."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [UploadThrottle]

    class AvatarCreateInput(serializers.Serializer):
        content_type = serializers.CharField(max_length=100)
        size_bytes = serializers.IntegerField()

    @extend_schema(request=AvatarCreateInput, responses={201: AvatarCreateOutput})
    def post(self, request):
        data = self.AvatarCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        upload = avatars.avatar_create_upload(user=request.user, **data.validated_data)
        body = {
            "upload": {
                "method": upload.method,
                "url": upload.url,
                "headers": upload.headers,
                "expires_at": upload.expires_at.isoformat(),
            }
        }
        return Response(body, status=status.HTTP_201_CREATED)


class AvatarCompleteApi(APIView):
    """The image was PUT: check it arrived and process it (``GET /me`` shows the outcome)."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [UploadThrottle]

    @extend_schema(request=None, responses={202: AvatarStateOutput})
    def post(self, request):
        user = avatars.avatar_complete_upload(user=request.user)
        return Response(avatar_state(user), status=status.HTTP_202_ACCEPTED)
