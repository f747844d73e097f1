"""Video endpoints of the videos layer: starting an upload.

Endpoints that answer with video cards (complete, read, edit, delete, lists) carry the
viewer's like/favorite/follow flags, so they live one layer up, in ``activity.apis``.
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from tiktok.throttles import UploadThrottle
from videos import services
from videos.serializers import VideoCreateOutput

PAGE_PARAMETERS = [
    OpenApiParameter("cursor", str, description="next_cursor of the previous page."),
    OpenApiParameter("limit", int, description="Items per page."),
]


class VideoCreateApi(APIView):
    """Start an upload: the bytes go straight to the store with the returned PUT."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [UploadThrottle]

    class VideoCreateInput(serializers.Serializer):
        caption = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)
        content_type = serializers.CharField(max_length=100)
        size_bytes = serializers.IntegerField()

    @extend_schema(request=VideoCreateInput, responses={201: VideoCreateOutput})
    def post(self, request):
        data = self.VideoCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        video, upload = services.video_create_upload(owner=request.user, **data.validated_data)
        body = {
            "id": str(video.id),
            "status": video.status,
            "upload": {
                "method": upload.method,
                "url": upload.url,
                "headers": upload.headers,
                "expires_at": upload.expires_at.isoformat(),
            },
        }
        return Response(body, status=status.HTTP_201_CREATED)
