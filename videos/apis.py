"""Video endpoints: upload (create + complete), read, edit, delete, lists."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from tiktok.pagination import page_limit
from tiktok.throttles import UploadThrottle, WriteThrottle
from videos import selectors, services
from videos.serializers import VideoCardOutput, VideoCardPageOutput, VideoCreateOutput

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


class VideoCompleteApi(APIView):
    """The client finished its PUT: check the object and start processing."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [WriteThrottle]

    @extend_schema(request=None, responses={200: VideoCardOutput})
    def post(self, request, video_id: str):
        video = services.video_complete_upload(video_id=video_id, owner=request.user)
        return Response(selectors.video_card(video_id=video.id, viewer=request.user))


class VideoDetailApi(APIView):
    """Read (public, or own in any state), edit the caption, delete."""

    throttle_classes = [WriteThrottle]

    class VideoUpdateInput(serializers.Serializer):
        # Only the caption is editable; anything else in the body is ignored.
        caption = serializers.CharField(allow_blank=True, trim_whitespace=False)

    def get_permissions(self):
        if self.request.method == "GET":
            return [AllowAny()]
        return [IsAuthenticated()]

    @extend_schema(responses={200: VideoCardOutput}, auth=[{"BearerAuth": []}, {}])
    def get(self, request, video_id: str):
        return Response(selectors.video_card(video_id=video_id, viewer=request.user))

    @extend_schema(request=VideoUpdateInput, responses={200: VideoCardOutput})
    def patch(self, request, video_id: str):
        data = self.VideoUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        video = services.video_update_caption(video_id=video_id, owner=request.user, **data.validated_data)
        return Response(selectors.video_card(video_id=video.id, viewer=request.user))

    @extend_schema(responses={204: None})
    def delete(self, request, video_id: str):
        services.video_delete(video_id=video_id, owner=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserVideoListApi(APIView):
    """A creator's public videos, newest first."""

    permission_classes = [AllowAny]

    @extend_schema(parameters=PAGE_PARAMETERS, responses={200: VideoCardPageOutput}, auth=[{"BearerAuth": []}, {}])
    def get(self, request, username: str):
        page = selectors.video_list_public_for_user(
            username=username,
            cursor=request.query_params.get("cursor"),
            limit=page_limit(request.query_params.get("limit")),
        )
        items = selectors.video_cards_for_videos(videos=page.items, viewer=request.user)
        return Response({"items": items, "next_cursor": page.next_cursor})


class MyVideoListApi(APIView):
    """The viewer's own videos in every state, newest created first."""

    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=PAGE_PARAMETERS, responses={200: VideoCardPageOutput})
    def get(self, request):
        page = selectors.video_list_for_owner(
            owner=request.user,
            cursor=request.query_params.get("cursor"),
            limit=page_limit(request.query_params.get("limit")),
        )
        items = selectors.video_cards_for_videos(videos=page.items, viewer=request.user)
        return Response({"items": items, "next_cursor": page.next_cursor})
