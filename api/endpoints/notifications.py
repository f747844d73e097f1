"""``/notifications``: the inbox, its unread count (cheap to poll) and marking read.
Written by Celery (``activity.notifications.services``); these only read and mark."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from activity.notifications import selectors as notification_selectors
from activity.notifications import services as notification_services
from api.paging import PAGE_PARAMETERS, page_arguments
from api.serializers.activity import NotificationPageOutput, UnreadCountOutput
from api.serializers.fields import StrictBooleanField
from tiktok.exceptions import ApplicationError
from tiktok.throttles import WriteThrottle


class NotificationListApi(APIView):
    """The inbox, newest first; likes and follows close in time are one item."""

    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=PAGE_PARAMETERS, responses={200: NotificationPageOutput})
    def get(self, request):
        page = notification_selectors.notifications_page(user=request.user, **page_arguments(request))
        data = {
            "items": page.items,
            "next_cursor": page.next_cursor,
            "unread_count": notification_selectors.unread_count(user=request.user),
        }
        return Response(NotificationPageOutput(data).data)


class NotificationUnreadCountApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: UnreadCountOutput})
    def get(self, request):
        return Response({"count": notification_selectors.unread_count(user=request.user)})


class NotificationReadApi(APIView):
    """Mark read: ``{"up_to": <item id>}`` (that item and older ones) or ``{"all": true}``."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [WriteThrottle]

    class ReadInput(serializers.Serializer):
        up_to = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
        all = StrictBooleanField(required=False)

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
        notification_services.notifications_mark_read(user=request.user, up_to=data.validated_data.get("up_to"))
        return Response(status=status.HTTP_204_NO_CONTENT)
