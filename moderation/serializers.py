"""Output shapes of the report endpoints (inputs live with their views in apis.py).

Component names are unique across the project: drf-spectacular refuses duplicates.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


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
