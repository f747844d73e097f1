"""Block and mute endpoints: ``PUT``/``DELETE`` on the relation (idempotent) and the
viewer's own lists. Services: ``activity.services``; reads: ``activity.relations``."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import user_get_by_username
from activity import relations, services
from activity.apis import PAGE_PARAMETERS, _page
from tiktok.throttles import WriteThrottle


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


class MyBlocksApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=PAGE_PARAMETERS, responses={200: RelatedUserPageOutput})
    def get(self, request):
        return Response(RelatedUserPageOutput(relations.blocks_page(user=request.user, **_page(request))).data)


class MyMutesApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=PAGE_PARAMETERS, responses={200: RelatedUserPageOutput})
    def get(self, request):
        return Response(RelatedUserPageOutput(relations.mutes_page(user=request.user, **_page(request))).data)
