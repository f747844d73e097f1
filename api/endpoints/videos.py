"""``/videos``: start an upload, complete it, read, edit and delete a video; like,
favorite, comment, record a view, report; and, without a CDN, its HLS playlists.

Every card answered here carries the viewer's flags (``api.cards``).
"""

import json

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from activity.engagement import selectors as activity_selectors
from activity.engagement import services as activity_services
from activity.visibility import relations
from api import cards
from api.paging import PAGE_PARAMETERS, page_arguments
from api.serializers.activity import (
    CommentOutput,
    CommentPageOutput,
    FavoriteStateOutput,
    LikeStateOutput,
    ViewRecordOutput,
)
from api.serializers.moderation import ReportCreateInput, ReportOutput, report_response
from api.serializers.uploads import upload_body
from api.serializers.videos import VideoCardOutput, VideoCreateOutput
from feed import services as feed_services
from moderation import services as moderation_services
from tiktok import idempotency
from tiktok.exceptions import NotFoundError
from tiktok.throttles import ReportThrottle, UploadThrottle, WriteThrottle
from videos import playback
from videos import services as video_services
from videos.selectors import video_get_public


def _anyone_reads(view) -> list:
    return [AllowAny()] if view.request.method == "GET" else [IsAuthenticated()]


# --- Upload and the video itself ------------------------------------------------------


class VideoCreateApi(APIView):
    """Start an upload: the bytes go straight to the store with the returned PUT."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [UploadThrottle]

    class VideoCreateInput(serializers.Serializer):
        caption = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)
        content_type = serializers.CharField(max_length=100)
        size_bytes = serializers.IntegerField()

    @extend_schema(request=VideoCreateInput, responses={201: VideoCreateOutput}, parameters=[idempotency.PARAMETER])
    @idempotency.idempotent
    def post(self, request):
        data = self.VideoCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        video, upload = video_services.video_create_upload(owner=request.user, **data.validated_data)
        body = {
            "id": str(video.id),
            "status": video.status,
            "upload": upload_body(upload),
        }
        return Response(body, status=status.HTTP_201_CREATED)


class VideoCompleteApi(APIView):
    """The client finished its PUT: check the object and start processing."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [WriteThrottle]

    @extend_schema(request=None, responses={200: VideoCardOutput})
    def post(self, request, video_id: str):
        video = video_services.video_complete_upload(video_id=video_id, owner=request.user)
        return Response(cards.video_card(video_id=video.id, viewer=request.user))


class VideoDetailApi(APIView):
    """Read (public, or own in any state), edit the caption, delete."""

    throttle_classes = [WriteThrottle]
    get_permissions = _anyone_reads

    class VideoUpdateInput(serializers.Serializer):
        # Only the caption is editable; anything else in the body is ignored.
        caption = serializers.CharField(allow_blank=True, trim_whitespace=False)

    @extend_schema(responses={200: VideoCardOutput}, auth=[{"BearerAuth": []}, {}])
    def get(self, request, video_id: str):
        return Response(cards.video_card(video_id=video_id, viewer=request.user))

    @extend_schema(request=VideoUpdateInput, responses={200: VideoCardOutput})
    def patch(self, request, video_id: str):
        data = self.VideoUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        video = video_services.video_update_caption(video_id=video_id, owner=request.user, **data.validated_data)
        return Response(cards.video_card(video_id=video.id, viewer=request.user))

    @extend_schema(responses={204: None})
    def delete(self, request, video_id: str):
        video_services.video_delete(video_id=video_id, owner=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Likes, favorites, views ----------------------------------------------------------


class LikeApi(APIView):
    """``PUT`` likes a ready, visible video, ``DELETE`` removes the like; both idempotent."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [WriteThrottle]

    @extend_schema(request=None, responses={200: LikeStateOutput})
    def put(self, request, video_id: str):
        activity_services.like_create(user=request.user, video_id=video_id)
        return Response({"liked": True})

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, video_id: str):
        activity_services.like_delete(user=request.user, video_id=video_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class FavoriteApi(APIView):
    """``PUT`` favorites a ready, visible video, ``DELETE`` removes it; both idempotent."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [WriteThrottle]

    @extend_schema(request=None, responses={200: FavoriteStateOutput})
    def put(self, request, video_id: str):
        activity_services.favorite_create(user=request.user, video_id=video_id)
        return Response({"favorited": True})

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, video_id: str):
        activity_services.favorite_delete(user=request.user, video_id=video_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ViewRecordApi(APIView):
    """Record an impression (at most one per viewer and video per hour counts); later feed
    pages skip the video."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [WriteThrottle]

    class ViewRecordInput(serializers.Serializer):
        watched_ms = serializers.IntegerField(min_value=0, max_value=activity_services.VIEW_MAX_WATCHED_MS)

    @extend_schema(request=ViewRecordInput, responses={202: ViewRecordOutput})
    def post(self, request, video_id: str):
        data = self.ViewRecordInput(data=request.data)
        data.is_valid(raise_exception=True)
        view = activity_services.view_record(viewer=request.user, video_id=video_id, **data.validated_data)
        feed_services.video_seen(viewer_id=request.user.pk, video_id=view.video_id)
        return Response({"recorded": view.recorded}, status=status.HTTP_202_ACCEPTED)


# --- Comments and reports -------------------------------------------------------------


class VideoCommentsApi(APIView):
    """``GET`` lists a video's comments (anyone), ``POST`` adds one (signed in)."""

    throttle_classes = [WriteThrottle]
    get_permissions = _anyone_reads

    class CommentCreateInput(serializers.Serializer):
        # Length and blankness are checked after stripping, in the service.
        text = serializers.CharField(allow_blank=True, trim_whitespace=False)

    @extend_schema(
        parameters=[
            *PAGE_PARAMETERS,
            OpenApiParameter("order", str, enum=list(activity_selectors.COMMENT_ORDERS), description="Default newest."),
        ],
        responses={200: CommentPageOutput},
    )
    def get(self, request, video_id: str):
        video = video_get_public(video_id=video_id)
        if video.owner_id in relations.viewer_blocked_ids(request.user):
            raise NotFoundError("No such video.")
        order = request.query_params.get("order") or "newest"
        page = activity_selectors.comments_page(
            video=video, order=order, viewer=request.user, **page_arguments(request)
        )
        return Response(CommentPageOutput(page).data)

    @extend_schema(request=CommentCreateInput, responses={201: CommentOutput}, parameters=[idempotency.PARAMETER])
    @idempotency.idempotent
    def post(self, request, video_id: str):
        data = self.CommentCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        comment = activity_services.comment_create(
            author=request.user, video_id=video_id, text=data.validated_data["text"]
        )
        return Response(CommentOutput(comment).data, status=status.HTTP_201_CREATED)


class VideoReportApi(APIView):
    """Report a video: 201 the first time, 200 with the same open report on a repeat."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [WriteThrottle, ReportThrottle]

    @extend_schema(
        request=ReportCreateInput, responses={201: ReportOutput, 200: ReportOutput}, parameters=[idempotency.PARAMETER]
    )
    @idempotency.idempotent
    def post(self, request, video_id: str):
        data = ReportCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        return report_response(
            moderation_services.video_report_create(reporter=request.user, video_id=video_id, **data.validated_data)
        )


# --- Playback without a CDN (``videos.playback``) -------------------------------------

# Players reload the master rarely; a short private cache keeps the presigned URLs fresh.
PLAYLIST_CACHE_CONTROL = "private, max-age=60"


class PlaylistRenderer(BaseRenderer):
    """Lets players ask for playlists by type (``_PlaylistApi`` answers errors as JSON)."""

    media_type = playback.PLAYLIST_CONTENT_TYPE
    format = "m3u8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data.encode() if isinstance(data, str) else json.dumps(data).encode()


def _playlist_response(body: str) -> HttpResponse:
    response = HttpResponse(body, content_type=playback.PLAYLIST_CONTENT_TYPE)
    response["Cache-Control"] = PLAYLIST_CACHE_CONTROL
    return response


def _not_blocked(request, video_id: str) -> None:
    """A player may send the viewer's token: then a video of someone who blocked the viewer
    (or whom the viewer blocked) is a 404, as its card is. Without a token the playlist of a
    public video is public."""
    if request.user.is_authenticated:
        video = video_get_public(video_id=video_id)
        if relations.blocked_between(user_id=request.user.pk, other_id=video.owner_id):
            raise NotFoundError("No such video.")


class _PlaylistApi(APIView):
    """A playlist endpoint: playlists in their own type, errors always as JSON in the error shape."""

    permission_classes = [AllowAny]  # public videos; a token, if sent, applies blocks
    renderer_classes = [JSONRenderer, PlaylistRenderer]

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = "application/json"
        return response


class PlaybackMasterApi(_PlaylistApi):
    """HLS master playlist of a public video (direct mode: the store has no CDN)."""

    @extend_schema(
        operation_id="video_playback_master",
        responses={(200, playback.PLAYLIST_CONTENT_TYPE): OpenApiResponse(OpenApiTypes.STR)},
        auth=[{"BearerAuth": []}, {}],
    )
    def get(self, request, video_id: str):
        _not_blocked(request, video_id)
        return _playlist_response(playback.master_playlist(video_id=video_id))


class PlaybackVariantApi(_PlaylistApi):
    """HLS variant playlist of a public video with every segment URI presigned."""

    @extend_schema(
        operation_id="video_playback_variant",
        responses={(200, playback.PLAYLIST_CONTENT_TYPE): OpenApiResponse(OpenApiTypes.STR)},
        auth=[{"BearerAuth": []}, {}],
    )
    def get(self, request, video_id: str, rendition: str):
        _not_blocked(request, video_id)
        return _playlist_response(playback.variant_playlist(video_id=video_id, rendition=rendition))
