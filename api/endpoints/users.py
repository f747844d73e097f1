"""``/users/<username>``: a profile with the viewer's follow state, the user's public
videos, their followers and following, and the viewer's follow, block and mute of them."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import user_get_by_username
from activity.graph import selectors, services
from activity.visibility import relations
from api import cards
from api.paging import PAGE_PARAMETERS, page_arguments
from api.serializers.activity import FollowStateOutput, FollowUserPageOutput
from api.serializers.users import BlockStateOutput, MuteStateOutput, ProfileOutput, profile_data
from api.serializers.videos import VideoCardPageOutput
from tiktok.throttles import WriteThrottle
from videos import selectors as video_selectors


class UserDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses={200: ProfileOutput})
    def get(self, request, username: str):
        user = relations.user_get_visible(username=username, viewer=request.user)
        viewer_following = None
        if request.user.is_authenticated:
            viewer_following = user.pk in selectors.following_ids(follower=request.user, user_ids=[user.pk])
        return Response(profile_data(user, viewer_following=viewer_following))


class UserVideoListApi(APIView):
    """A creator's public videos, newest first."""

    permission_classes = [AllowAny]

    @extend_schema(parameters=PAGE_PARAMETERS, responses={200: VideoCardPageOutput}, auth=[{"BearerAuth": []}, {}])
    def get(self, request, username: str):
        relations.user_get_visible(username=username, viewer=request.user)
        page = video_selectors.video_list_public_for_user(username=username, **page_arguments(request))
        items = cards.video_cards_for_videos(videos=page.items, viewer=request.user)
        return Response({"items": items, "next_cursor": page.next_cursor})


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
        page = selectors.followers_page(user=user, viewer=request.user, **page_arguments(request))
        return Response(FollowUserPageOutput(page).data)


class FollowingApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(parameters=PAGE_PARAMETERS, responses={200: FollowUserPageOutput})
    def get(self, request, username: str):
        user = relations.user_get_visible(username=username, viewer=request.user)
        page = selectors.following_page(user=user, viewer=request.user, **page_arguments(request))
        return Response(FollowUserPageOutput(page).data)


# --- Blocks and mutes -----------------------------------------------------------------


class BlockApi(APIView):
    """``PUT`` blocks the user (follows both ways end; neither sees the other), ``DELETE``
    unblocks; both idempotent. Blocking yourself: 400; unknown user: 404."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [WriteThrottle]

    @extend_schema(request=None, responses={200: BlockStateOutput})
    def put(self, request, username: str):
        services.block_create(blocker=request.user, blocked=user_get_by_username(username=username))
        return Response({"blocked": True})

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, username: str):
        services.block_delete(blocker=request.user, blocked=user_get_by_username(username=username))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MuteApi(APIView):
    """``PUT`` mutes the user (their videos and notifications vanish for you; they notice
    nothing), ``DELETE`` unmutes; both idempotent."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [WriteThrottle]

    @extend_schema(request=None, responses={200: MuteStateOutput})
    def put(self, request, username: str):
        services.mute_create(muter=request.user, muted=user_get_by_username(username=username))
        return Response({"muted": True})

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, username: str):
        services.mute_delete(muter=request.user, muted=user_get_by_username(username=username))
        return Response(status=status.HTTP_204_NO_CONTENT)
