"""The media bucket's lifecycle rules: what the stack applied equals what
docs/operations.md shows, and the rules follow their settings.

Against the local S3 server (moto keeps and returns lifecycle configurations).
"""

from __future__ import annotations

import json
import re
from io import StringIO

from django.conf import settings
from django.core.management import call_command

from tests.helpers.stack import REPO
from tiktok.storage import s3_client
from videos.lifecycle import bucket_lifecycle_apply, lifecycle_configuration

SECTION = "## Storage tiers and lifecycle rules"


def documented() -> dict:
    text = (REPO / "docs" / "operations.md").read_text()
    section = text[text.index(SECTION) :]
    return json.loads(re.search(r"```json\n(.*?)\n```", section, re.S)[1])


def applied(bucket: str) -> dict:
    return {"Rules": s3_client().get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]}


def by_id(configuration: dict) -> dict:
    return {rule["ID"]: rule for rule in configuration["Rules"]}


def test_the_bucket_carries_the_documented_rules():
    """Applied by the command ``bin/stack`` runs on its bucket, here on the test bucket."""
    bucket = settings.AWS_STORAGE_BUCKET_NAME
    call_command("bucket_lifecycle_apply", endpoint=settings.AWS_S3_ENDPOINT_URL, bucket=bucket, stdout=StringIO())
    assert by_id(applied(bucket)) == by_id(documented()) == by_id(lifecycle_configuration())


def test_the_rules_follow_their_settings(settings):
    settings.STORAGE_ORIGINALS_IA_DAYS = 45
    settings.STORAGE_QUARANTINE_EXPIRY_DAYS = 30
    settings.STORAGE_ABANDONED_UPLOAD_EXPIRY_DAYS = 3
    bucket = settings.AWS_STORAGE_BUCKET_NAME
    try:
        bucket_lifecycle_apply(s3_client(), bucket=bucket)
        rules = by_id(applied(bucket))
    finally:
        settings.STORAGE_ORIGINALS_IA_DAYS = 30
        settings.STORAGE_QUARANTINE_EXPIRY_DAYS = 180
        settings.STORAGE_ABANDONED_UPLOAD_EXPIRY_DAYS = 2
        bucket_lifecycle_apply(s3_client(), bucket=bucket)
    assert rules["checked-originals-to-infrequent-access"]["Transitions"] == [
        {"Days": 45, "StorageClass": "STANDARD_IA"}
    ]
    assert rules["quarantined-media-expire-after-appeal-window"]["Expiration"] == {"Days": 30}
    assert rules["abandoned-uploads-expire"]["Expiration"] == {"Days": 3}
    assert rules["abort-incomplete-multipart-uploads"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
