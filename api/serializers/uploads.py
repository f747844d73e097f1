"""A presigned upload as the API answers it (video originals and avatars alike)."""

from rest_framework import serializers

from tiktok.storage import UploadTicket


# Subclassed per resource, so each keeps its name in the OpenAPI schema (no docstring: a
# subclass would inherit it as its schema description).
class UploadOutput(serializers.Serializer):
    method = serializers.CharField()
    url = serializers.URLField()
    headers = serializers.DictField(child=serializers.CharField(), help_text="Send these headers with the PUT.")
    expires_at = serializers.DateTimeField()


def upload_body(upload: UploadTicket) -> dict:
    """The ``upload`` member of a create answer: where and how to PUT the bytes."""
    return {
        "method": upload.method,
        "url": upload.url,
        "headers": upload.headers,
        "expires_at": upload.expires_at.isoformat(),
    }
