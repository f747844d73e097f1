"""Notification endpoints: the inbox, its unread count (cheap to poll) and marking read.
Written by Celery (``activity.notifications``); these only read and mark."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from activity import notifications
from activity.apis import PAGE_PARAMETERS, _page
from tiktok.exceptions import ApplicationError
from tiktok.throttles import WriteThrottle


class NotificationActorOutput(serializers.Serializer):
    username = serializers.CharField()
    display_name = serializers.CharField()
    avatar_url = serializers.CharField(allow_null=True)


class NotificationVideoOutput(serializers.Serializer):
    id = serializers.UUIDField()
    poster_url = serializers.CharField(allow_null=True)


class NotificationCommentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()


class NotificationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=["follow", "like", "comment", "mention"])
    actors = NotificationActorOutput(many=True, help_text="The latest few actors, newest first.")
    actor_count = serializers.IntegerField(help_text="Every actor of this item (exact).")
    video = NotificationVideoOutput(allow_null=True)
    comment = NotificationCommentOutput(allow_null=True)
    created_at = serializers.DateTimeField()
    read = serializers.BooleanField()


class NotificationPageOutput(serializers.Serializer):
    items = NotificationOutput(many=True)
    next_cursor = serializers.CharField(allow_null=True)
    unread_count = serializers.IntegerField()


class UnreadCountOutput(serializers.Serializer):
    count = serializers.IntegerField()


class NotificationListApi(APIView):
    """The inbox, newest first; likes and follows close in time are one item."""

    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=PAGE_PARAMETERS, responses={200: NotificationPageOutput})
    def get(self, request):
        page = notifications.notifications_page(user=request.user, **_page(request))
        data = {
            "items": page.items,
            "next_cursor": page.next_cursor,
            "unread_count": notifications.unread_count(user=request.user),
        }
        return Response(NotificationPageOutput(data).data)


class NotificationUnreadCountApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: UnreadCountOutput})
    def get(self, request):
        return Response({"count": notifications.unread_count(user=request.user)})


class NotificationReadApi(APIView):
    """Mark read: ``{"up_to": <item id>}`` (that item and older ones) or ``{"all": true}``."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [WriteThrottle]

    class ReadInput(serializers.Serializer):
        up_to = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
        all = serializers.BooleanField(required=False)

        def validate(self, attrs):
            if ("up_to" in attrs) == bool(attrs.get("all")):
                raise serializers.ValidationError('Give either "up_to" (an item id) or "all": true.')
            return attrs

    @extend_schema(request=ReadInput, responses={204: None})
    def post(self, request):
        data = self.ReadInput(data=request.data)
        if not isinstance(request.data, dict):
            raise ApplicationError("Expected a JSON object.")
        data.is_valid(raise_exception=True)
        notifications.notifications_mark_read(user=request.user, up_to=data.validated_data.get("up_to"))
        return Response(status=status.HTTP_204_NO_CONTENT)
