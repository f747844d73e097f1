"""Storage tiers of the media bucket: its S3 lifecycle rules, written down once here.

The rules follow the key layout of ``videos.store``:

- every incomplete multipart upload is aborted after a day (parts left by a client
  that gave up are billed but invisible);
- checked originals (``verified/``: the server's copy every rendition is made from,
  read again only for a re-encode) move to STANDARD_IA after
  ``STORAGE_ORIGINALS_IA_DAYS`` (S3 accepts 30 or more);
- quarantined media (``quarantine/``: a taken-down video's objects, kept for an appeal)
  expire after ``STORAGE_QUARANTINE_EXPIRY_DAYS``, the appeal window;
- abandoned uploads (``originals/``: the client's PUT target, deleted once the upload is
  completed and copied to ``verified/``) expire after
  ``STORAGE_ABANDONED_UPLOAD_EXPIRY_DAYS``, a backstop for the beat's clean-up.

Processed media (``processed/``) has no rule: it is read on every view.
``bin/stack`` applies the rules when it creates the bucket (``manage.py
bucket_lifecycle_apply``); docs/operations.md shows the JSON, which a test compares with this.
"""

from __future__ import annotations

from django.conf import settings

from videos.store import ORIGINALS_PREFIX

MULTIPART_ABORT_DAYS = 1
VERIFIED_PREFIX = "verified/"
QUARANTINE_PREFIX = "quarantine/"


def lifecycle_configuration() -> dict:
    """The bucket's ``LifecycleConfiguration`` (as ``put_bucket_lifecycle_configuration`` takes it)."""
    return {
        "Rules": [
            {
                "ID": "abort-incomplete-multipart-uploads",
                "Filter": {"Prefix": ""},
                "Status": "Enabled",
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": MULTIPART_ABORT_DAYS},
            },
            {
                "ID": "checked-originals-to-infrequent-access",
                "Filter": {"Prefix": VERIFIED_PREFIX},
                "Status": "Enabled",
                "Transitions": [{"Days": settings.STORAGE_ORIGINALS_IA_DAYS, "StorageClass": "STANDARD_IA"}],
            },
            {
                "ID": "quarantined-media-expire-after-appeal-window",
                "Filter": {"Prefix": QUARANTINE_PREFIX},
                "Status": "Enabled",
                "Expiration": {"Days": settings.STORAGE_QUARANTINE_EXPIRY_DAYS},
            },
            {
                "ID": "abandoned-uploads-expire",
                "Filter": {"Prefix": ORIGINALS_PREFIX},
                "Status": "Enabled",
                "Expiration": {"Days": settings.STORAGE_ABANDONED_UPLOAD_EXPIRY_DAYS},
            },
        ]
    }


def bucket_lifecycle_apply(client, *, bucket: str) -> dict:
    """Put the rules on ``bucket`` (replacing any) and return them."""
    configuration = lifecycle_configuration()
    client.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration=configuration)
    return configuration
