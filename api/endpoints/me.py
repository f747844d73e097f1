"""``/me``: the signed-in user's profile, password, avatar, and their own lists (videos,
likes, favorites, blocks, mutes)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import avatars, services
from activity.engagement import selectors as activity_selectors
from activity.visibility import relations
from api import cards
from api.paging import PAGE_PARAMETERS, page_arguments
from api.serializers.activity import ActivityVideoPageOutput
from api.serializers.fields import StrictCharField
from api.serializers.uploads import upload_body
from api.serializers.users import (
    AvatarCreateOutput,
    AvatarStateOutput,
    MeOutput,
    RelatedUserPageOutput,
    TokenOutput,
)
from api.serializers.videos import VideoCardPageOutput
from tiktok import idempotency
from tiktok.throttles import AuthThrottle, UploadThrottle, WriteThrottle
from videos import selectors as video_selectors

# --- Profile and password -------------------------------------------------------------


class MeApi(APIView):
    permission_classes = [IsAuthenticated]
    throttle_classes = [WriteThrottle]

    class MeUpdateInput(serializers.Serializer):
        display_name = StrictCharField(max_length=64, required=False, allow_blank=True)
        bio = StrictCharField(max_length=300, required=False, allow_blank=True)

    @extend_schema(responses={200: MeOutput})
    def get(self, request):
        return Response(MeOutput(request.user).data | {"viewer": None})

    @extend_schema(request=MeUpdateInput, responses={200: MeOutput})
    def patch(self, request):
        data = self.MeUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_update_profile(user=request.user, **data.validated_data)
        return Response(MeOutput(user).data | {"viewer": None})


class PasswordChangeApi(APIView):
    """Change the password: every device is signed out; this one gets a new token."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [AuthThrottle]

    class PasswordChangeInput(serializers.Serializer):
        current_password = serializers.CharField(max_length=128, trim_whitespace=False)
        new_password = serializers.CharField(min_length=8, max_length=128, trim_whitespace=False)

    @extend_schema(request=PasswordChangeInput, responses={200: TokenOutput})
    def post(self, request):
        data = self.PasswordChangeInput(data=request.data)
        data.is_valid(raise_exception=True)
        issued = services.user_change_password(user=request.user, **data.validated_data)
        return Response(TokenOutput(issued).data)


# --- Avatar: start an upload (presigned PUT), then hand it to the worker ---------------


class AvatarUploadApi(APIView):
    """Start an avatar upload: PUT the image bytes to the returned URL, then complete."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [UploadThrottle]

    class AvatarCreateInput(serializers.Serializer):
        content_type = serializers.CharField(max_length=100)
        size_bytes = serializers.IntegerField()

    @extend_schema(request=AvatarCreateInput, responses={201: AvatarCreateOutput}, parameters=[idempotency.PARAMETER])
    @idempotency.idempotent
    def post(self, request):
        data = self.AvatarCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        upload = avatars.avatar_create_upload(user=request.user, **data.validated_data)
        return Response({"upload": upload_body(upload)}, status=status.HTTP_201_CREATED)


class AvatarCompleteApi(APIView):
    """The image was PUT: check it arrived and process it (``GET /me`` shows the outcome)."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [UploadThrottle]

    @extend_schema(request=None, responses={202: AvatarStateOutput})
    def post(self, request):
        user = avatars.avatar_complete_upload(user=request.user)
        body = {
            "avatar_status": user.avatar_status,
            "avatar_failure_reason": user.avatar_failure_reason,
            **avatars.avatar_urls(user),
        }
        return Response(body, status=status.HTTP_202_ACCEPTED)


# --- The viewer's own lists -----------------------------------------------------------


class MyVideoListApi(APIView):
    """The viewer's own videos in every state, newest created first."""

    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=PAGE_PARAMETERS, responses={200: VideoCardPageOutput})
    def get(self, request):
        page = video_selectors.video_list_for_owner(owner=request.user, **page_arguments(request))
        items = cards.video_cards_for_videos(videos=page.items, viewer=request.user)
        return Response({"items": items, "next_cursor": page.next_cursor})


class MyLikesApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=PAGE_PARAMETERS, responses={200: ActivityVideoPageOutput})
    def get(self, request):
        page = activity_selectors.liked_videos_page(user=request.user, **page_arguments(request))
        return Response({"items": page.items, "next_cursor": page.next_cursor})


class MyFavoritesApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=PAGE_PARAMETERS, responses={200: ActivityVideoPageOutput})
    def get(self, request):
        page = activity_selectors.favorite_videos_page(user=request.user, **page_arguments(request))
        return Response({"items": page.items, "next_cursor": page.next_cursor})


class MyBlocksApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=PAGE_PARAMETERS, responses={200: RelatedUserPageOutput})
    def get(self, request):
        return Response(RelatedUserPageOutput(relations.blocks_page(user=request.user, **page_arguments(request))).data)


class MyMutesApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=PAGE_PARAMETERS, responses={200: RelatedUserPageOutput})
    def get(self, request):
        return Response(RelatedUserPageOutput(relations.mutes_page(user=request.user, **page_arguments(request))).data)
