"""``/comments/<id>``: delete a comment, report it. (A video's comments are listed and
added under ``/videos/<id>/comments``, in ``api.endpoints.videos``.)"""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from activity.engagement import services as activity_services
from api.serializers.moderation import ReportCreateInput, ReportOutput, report_response
from moderation import services as moderation_services
from tiktok import idempotency
from tiktok.throttles import ReportThrottle, WriteThrottle


class CommentDeleteApi(APIView):
    """Delete a comment: its author or the video's owner."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, comment_id: int):
        activity_services.comment_delete(user=request.user, comment_id=comment_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CommentReportApi(APIView):
    """Report a comment: 201 the first time, 200 with the same open report on a repeat."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [WriteThrottle, ReportThrottle]

    @extend_schema(
        request=ReportCreateInput, responses={201: ReportOutput, 200: ReportOutput}, parameters=[idempotency.PARAMETER]
    )
    @idempotency.idempotent
    def post(self, request, comment_id: int):
        data = ReportCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        return report_response(
            moderation_services.comment_report_create(
                reporter=request.user, comment_id=comment_id, **data.validated_data
            )
        )
