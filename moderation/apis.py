"""Report endpoints: a signed-in user reports a video or a comment.

Each view parses input, calls one service and serializes. Errors are raised by services
and shaped by the exception handler.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from moderation import services
from moderation.models import ReportReason
from moderation.serializers import ReportOutput
from tiktok.throttles import ReportThrottle, WriteThrottle


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
    throttle_classes = [WriteThrottle, ReportThrottle]

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
    throttle_classes = [WriteThrottle, ReportThrottle]

    @extend_schema(request=ReportCreateInput, responses={201: ReportOutput, 200: ReportOutput})
    def post(self, request, comment_id: int):
        data = ReportCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        return _report_response(
            services.comment_report_create(reporter=request.user, comment_id=comment_id, **data.validated_data)
        )
