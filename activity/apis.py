"""Activity endpoints: follow, like, favorite, comment, view, and their lists.

One view per resource path; each method parses input, calls one service or selector
and serializes. Errors are raised by services and shaped by the exception handler.
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import user_get_by_username
from accounts.serializers import ProfileOutput, profile_data
from activity import relations, selectors, services
from activity.serializers import (
    ActivityVideoPageOutput,
    CommentOutput,
    CommentPageOutput,
    FavoriteStateOutput,
    FollowStateOutput,
    FollowUserPageOutput,
    LikeStateOutput,
)
from tiktok import idempotency
from tiktok.exceptions import NotFoundError
from tiktok.pagination import page_limit
from tiktok.throttles import WriteThrottle
from videos import selectors as video_selectors
from videos import services as video_services
from videos.selectors import video_get_public
from videos.serializers import VideoCardOutput, VideoCardPageOutput

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
        user = relations.user_get_visible(username=username, viewer=request.user)
        page = selectors.followers_page(user=user, viewer=request.user, **_page(request))
        return Response(FollowUserPageOutput(page).data)


class FollowingApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(parameters=PAGE_PARAMETERS, responses={200: FollowUserPageOutput})
    def get(self, request, username: str):
        user = relations.user_get_visible(username=username, viewer=request.user)
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
        if video.owner_id in relations.viewer_blocked_ids(request.user):
            raise NotFoundError("No such video.")
        page = selectors.comments_page(
            video=video, order=request.query_params.get("order") or "newest", viewer=request.user, **_page(request)
        )
        return Response(CommentPageOutput(page).data)

    @extend_schema(request=CommentCreateInput, responses={201: CommentOutput}, parameters=[idempotency.PARAMETER])
    @idempotency.idempotent
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


# --- Views ----------------------------------------------------------------------------


# --- Reads composed with the viewer's own activity -------------------------------------
# Profiles with the viewer's follow state, and video cards with the viewer's flags: the
# videos and accounts layers cannot see activity, so these endpoints live here.


class UserDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses={200: ProfileOutput})
    def get(self, request, username: str):
        user = relations.user_get_visible(username=username, viewer=request.user)
        viewer_following = None
        if request.user.is_authenticated:
            viewer_following = user.pk in selectors.following_ids(follower=request.user, user_ids=[user.pk])
        return Response(profile_data(user, viewer_following=viewer_following))


class VideoCompleteApi(APIView):
    """The client finished its PUT: check the object and start processing."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [WriteThrottle]

    @extend_schema(request=None, responses={200: VideoCardOutput})
    def post(self, request, video_id: str):
        video = video_services.video_complete_upload(video_id=video_id, owner=request.user)
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
        video = video_services.video_update_caption(video_id=video_id, owner=request.user, **data.validated_data)
        return Response(selectors.video_card(video_id=video.id, viewer=request.user))

    @extend_schema(responses={204: None})
    def delete(self, request, video_id: str):
        video_services.video_delete(video_id=video_id, owner=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserVideoListApi(APIView):
    """A creator's public videos, newest first."""

    permission_classes = [AllowAny]

    @extend_schema(parameters=PAGE_PARAMETERS, responses={200: VideoCardPageOutput}, auth=[{"BearerAuth": []}, {}])
    def get(self, request, username: str):
        relations.user_get_visible(username=username, viewer=request.user)
        page = video_selectors.video_list_public_for_user(
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
        page = video_selectors.video_list_for_owner(
            owner=request.user,
            cursor=request.query_params.get("cursor"),
            limit=page_limit(request.query_params.get("limit")),
        )
        items = selectors.video_cards_for_videos(videos=page.items, viewer=request.user)
        return Response({"items": items, "next_cursor": page.next_cursor})
