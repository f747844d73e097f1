"""Input and output shapes of reports (of videos and of comments)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response

from moderation import services
from moderation.models import ReportReason


class ReportCreateInput(serializers.Serializer):
    reason = serializers.ChoiceField(choices=ReportReason.choices)
    details = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class ReportTargetOutput(serializers.Serializer):
    type = serializers.ChoiceField(choices=["video", "comment"])
    id = serializers.CharField()


class ReportOutput(serializers.Serializer):
    id = serializers.IntegerField()
    target = serializers.SerializerMethodField()
    # Plain strings: enum components named "status" would collide with other apps'.
    reason = serializers.CharField(help_text="One of the report reasons.")
    details = serializers.CharField()
    status = serializers.CharField(help_text="open, resolved or dismissed.")
    created_at = serializers.DateTimeField()

    @extend_schema_field(ReportTargetOutput)
    def get_target(self, report) -> dict:
        if report.video_id is not None:
            return {"type": "video", "id": str(report.video_id)}
        return {"type": "comment", "id": str(report.comment_id)}


def report_response(result: services.ReportResult) -> Response:
    """201 with a new report, 200 with the open one a repeat found."""
    return Response(
        ReportOutput(result.report).data, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
    )
