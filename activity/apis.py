"""Activity endpoints: follow, like, favorite, comment, report, view, and their lists.

One view per resource path; each method parses input, calls one service or selector
and serializes. Errors are raised by services and shaped by the exception handler.
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import user_get_by_username
from activity import selectors, services
from activity.models import ReportReason
from activity.serializers import (
    ActivityVideoPageOutput,
    CommentOutput,
    CommentPageOutput,
    FavoriteStateOutput,
    FollowStateOutput,
    FollowUserPageOutput,
    LikeStateOutput,
    ReportOutput,
    ViewRecordOutput,
)
from tiktok.pagination import page_limit
from tiktok.throttles import WriteThrottle
from videos.selectors import video_get_public

PAGE_PARAMETERS = [
    OpenApiParameter("cursor", str, description="next_cursor of the previous page."),
    OpenApiParameter("limit", int, description="Items per page (default 10, at most 50)."),
]


def _page(request) -> dict:
    return {
        "cursor": request.query_params.get("cursor") or None,
        "limit": page_limit(request.query_params.get("limit")),
    }


# --- Follows --------------------------------------------------------------------------


class FollowApi(APIView):
    """``PUT`` follows the user, ``DELETE`` unfollows; both idempotent."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [WriteThrottle]

    @extend_schema(request=None, responses={200: FollowStateOutput})
    def put(self, request, username: str):
        followee = user_get_by_username(username=username)
        services.follow_create(follower=request.user, followee=followee)
        return Response(FollowStateOutput({"following": True, "counts": followee}).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, username: str):
        followee = user_get_by_username(username=username)
        services.follow_delete(follower=request.user, followee=followee)
        return Response(status=status.HTTP_204_NO_CONTENT)


class FollowersApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(parameters=PAGE_PARAMETERS, responses={200: FollowUserPageOutput})
    def get(self, request, username: str):
        user = user_get_by_username(username=username)
        page = selectors.followers_page(user=user, viewer=request.user, **_page(request))
        return Response(FollowUserPageOutput(page).data)


class FollowingApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(parameters=PAGE_PARAMETERS, responses={200: FollowUserPageOutput})
    def get(self, request, username: str):
        user = user_get_by_username(username=username)
        page = selectors.following_page(user=user, viewer=request.user, **_page(request))
        return Response(FollowUserPageOutput(page).data)


# --- Likes and favorites --------------------------------------------------------------


class LikeApi(APIView):
    """``PUT`` likes a ready, visible video, ``DELETE`` removes the like; both idempotent."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [WriteThrottle]

    @extend_schema(request=None, responses={200: LikeStateOutput})
    def put(self, request, video_id: str):
        services.like_create(user=request.user, video_id=video_id)
        return Response({"liked": True})

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, video_id: str):
        services.like_delete(user=request.user, video_id=video_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class FavoriteApi(APIView):
    """``PUT`` favorites a ready, visible video, ``DELETE`` removes it; both idempotent."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [WriteThrottle]

    @extend_schema(request=None, responses={200: FavoriteStateOutput})
    def put(self, request, video_id: str):
        services.favorite_create(user=request.user, video_id=video_id)
        return Response({"favorited": True})

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, video_id: str):
        services.favorite_delete(user=request.user, video_id=video_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MyLikesApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=PAGE_PARAMETERS, responses={200: ActivityVideoPageOutput})
    def get(self, request):
        page = selectors.liked_videos_page(user=request.user, **_page(request))
        return Response({"items": page.items, "next_cursor": page.next_cursor})


class MyFavoritesApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=PAGE_PARAMETERS, responses={200: ActivityVideoPageOutput})
    def get(self, request):
        page = selectors.favorite_videos_page(user=request.user, **_page(request))
        return Response({"items": page.items, "next_cursor": page.next_cursor})


# --- Comments -------------------------------------------------------------------------


class VideoCommentsApi(APIView):
    """``GET`` lists a video's comments (anyone), ``POST`` adds one (signed in)."""

    throttle_classes = [WriteThrottle]

    class CommentCreateInput(serializers.Serializer):
        # Length and blankness are checked after stripping, in the service.
        text = serializers.CharField(allow_blank=True, trim_whitespace=False)

    def get_permissions(self):
        if self.request.method == "GET":
            return [AllowAny()]
        return [IsAuthenticated()]

    @extend_schema(
        parameters=[
            *PAGE_PARAMETERS,
            OpenApiParameter("order", str, enum=list(selectors.COMMENT_ORDERS), description="Default newest."),
        ],
        responses={200: CommentPageOutput},
    )
    def get(self, request, video_id: str):
        video = video_get_public(video_id=video_id)
        page = selectors.comments_page(
            video=video, order=request.query_params.get("order") or "newest", **_page(request)
        )
        return Response(CommentPageOutput(page).data)

    @extend_schema(request=CommentCreateInput, responses={201: CommentOutput})
    def post(self, request, video_id: str):
        data = self.CommentCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        comment = services.comment_create(author=request.user, video_id=video_id, text=data.validated_data["text"])
        return Response(CommentOutput(comment).data, status=status.HTTP_201_CREATED)


class CommentDeleteApi(APIView):
    """Delete a comment: its author or the video's owner."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, comment_id: int):
        services.comment_delete(user=request.user, comment_id=comment_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Reports --------------------------------------------------------------------------


class ReportCreateInput(serializers.Serializer):
    reason = serializers.ChoiceField(choices=ReportReason.choices)
    details = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


def _report_response(result: services.ReportResult) -> Response:
    return Response(
        ReportOutput(result.report).data, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
    )


class VideoReportApi(APIView):
    """Report a video: 201 the first time, 200 with the same open report on a repeat."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [WriteThrottle]

    @extend_schema(request=ReportCreateInput, responses={201: ReportOutput, 200: ReportOutput})
    def post(self, request, video_id: str):
        data = ReportCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        return _report_response(
            services.video_report_create(reporter=request.user, video_id=video_id, **data.validated_data)
        )


class CommentReportApi(APIView):
    """Report a comment: 201 the first time, 200 with the same open report on a repeat."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [WriteThrottle]

    @extend_schema(request=ReportCreateInput, responses={201: ReportOutput, 200: ReportOutput})
    def post(self, request, comment_id: int):
        data = ReportCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        return _report_response(
            services.comment_report_create(reporter=request.user, comment_id=comment_id, **data.validated_data)
        )


# --- Views ----------------------------------------------------------------------------


class ViewRecordApi(APIView):
    """Record an impression; at most one per viewer and video per hour counts."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [WriteThrottle]

    class ViewRecordInput(serializers.Serializer):
        watched_ms = serializers.IntegerField(min_value=0, max_value=services.VIEW_MAX_WATCHED_MS)

    @extend_schema(request=ViewRecordInput, responses={202: ViewRecordOutput})
    def post(self, request, video_id: str):
        data = self.ViewRecordInput(data=request.data)
        data.is_valid(raise_exception=True)
        recorded = services.view_record(viewer=request.user, video_id=video_id, **data.validated_data)
        return Response({"recorded": recorded}, status=status.HTTP_202_ACCEPTED)
