"""The object store as the videos app uses it: keys, presigned URLs, uploads, deletes.

The only module of the app that talks to S3 (through ``tiktok.storage.s3_client``).
Transient store failures (connection errors, timeouts, 5xx, throttling) are raised as
``StoreUnavailableError`` so tasks can retry them and the API answers 503.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import botocore.exceptions
from django.conf import settings

from tiktok.exceptions import ServiceUnavailableError
from tiktok.storage import s3_client

logger = logging.getLogger(__name__)

ORIGINAL_KEY = "originals/{owner_id}/{video_id}"
PROCESSED_PREFIX = "processed/{video_id}/"
# Where a taken-down video's objects wait (private), each under its own key:
# ``quarantine/<video_id>/processed/<video_id>/...`` and ``.../originals/<owner>/<video_id>``.
QUARANTINE_PREFIX = "quarantine/{video_id}/"

CONTENT_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".jpg": "image/jpeg",
}
# Processed objects never change once written (new content gets a new key).
IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable"

_TRANSIENT_CODES = {"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "ServiceUnavailable"}
_MISSING_CODES = {"404", "NoSuchKey", "NotFound"}


class StoreUnavailableError(ServiceUnavailableError):
    code = "storage_unavailable"


class ObjectMissingError(Exception):
    """The object does not exist."""


@dataclass(frozen=True)
class ObjectInfo:
    size: int
    content_type: str


def original_key(*, owner_id: int, video_id) -> str:
    return ORIGINAL_KEY.format(owner_id=owner_id, video_id=video_id)


def processed_prefix(*, video_id) -> str:
    return PROCESSED_PREFIX.format(video_id=video_id)


def quarantine_prefix(*, video_id) -> str:
    return QUARANTINE_PREFIX.format(video_id=video_id)


def _bucket() -> str:
    return settings.AWS_STORAGE_BUCKET_NAME


@contextmanager
def _translate_errors(action: str, key: str) -> Iterator[None]:
    try:
        yield
    except botocore.exceptions.ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if code in _MISSING_CODES or status == 404:
            raise ObjectMissingError(key) from exc
        if code in _TRANSIENT_CODES or status >= 500:
            raise StoreUnavailableError(f"Object storage failed to {action}; try again shortly.") from exc
        raise
    except (botocore.exceptions.BotoCoreError, OSError) as exc:
        # Connection refused/closed, timeouts, incomplete reads: all worth a retry.
        if isinstance(exc, FileNotFoundError):
            raise
        raise StoreUnavailableError(f"Object storage failed to {action}; try again shortly.") from exc


def presigned_put(*, key: str, content_type: str, size_bytes: int, expires_in: int) -> str:
    """A URL the client PUTs the bytes to; type and length are part of the signature."""
    with _translate_errors("sign an upload", key):
        return s3_client().generate_presigned_url(
            "put_object",
            Params={"Bucket": _bucket(), "Key": key, "ContentType": content_type, "ContentLength": size_bytes},
            ExpiresIn=expires_in,
            HttpMethod="PUT",
        )


def head(key: str) -> ObjectInfo:
    """Size and content type of an object; ``ObjectMissingError`` when there is none."""
    with _translate_errors("read an object", key):
        response = s3_client().head_object(Bucket=_bucket(), Key=key)
    return ObjectInfo(size=int(response["ContentLength"]), content_type=response.get("ContentType", ""))


def download(key: str, destination: Path) -> None:
    with _translate_errors("download an object", key):
        s3_client().download_file(_bucket(), key, str(destination))


def _processed_object_args(content_type: str) -> dict:
    args = {"ContentType": content_type, "CacheControl": IMMUTABLE_CACHE_CONTROL}
    acl = settings.VIDEO_PROCESSED_OBJECT_ACL
    if acl:
        args["ACL"] = acl
    return args


def upload(path: Path, key: str, *, content_type: str | None = None) -> None:
    """Upload a processed file (immutable, with ``settings.VIDEO_PROCESSED_OBJECT_ACL``)."""
    content_type = content_type or CONTENT_TYPES.get(path.suffix, "application/octet-stream")
    with _translate_errors("upload an object", key):
        s3_client().upload_file(str(path), _bucket(), key, ExtraArgs=_processed_object_args(content_type))


def upload_bytes(data: bytes, key: str, *, content_type: str) -> None:
    with _translate_errors("upload an object", key):
        s3_client().put_object(Bucket=_bucket(), Key=key, Body=data, **_processed_object_args(content_type))


def delete(key: str) -> None:
    with _translate_errors("delete an object", key):
        s3_client().delete_object(Bucket=_bucket(), Key=key)


def list_keys(prefix: str) -> list[str]:
    keys: list[str] = []
    with _translate_errors("list objects", prefix):
        paginator = s3_client().get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=_bucket(), Prefix=prefix):
            keys.extend(item["Key"] for item in page.get("Contents", []))
    return keys


def delete_prefix(prefix: str) -> int:
    """Delete every object under ``prefix``; returns how many there were."""
    if not prefix.endswith("/"):
        raise ValueError("A prefix to delete must end with '/'.")
    keys = list_keys(prefix)
    for start in range(0, len(keys), 1000):
        batch = keys[start : start + 1000]
        with _translate_errors("delete objects", prefix):
            s3_client().delete_objects(
                Bucket=_bucket(), Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True}
            )
    return len(keys)


def move(source: str, destination: str, *, public: bool) -> None:
    """Move an object (copy, then delete the source), keeping its type and headers.

    ``public`` gives the copy the processed-object ACL
    (``settings.VIDEO_PROCESSED_OBJECT_ACL``); otherwise it is private. Safe to repeat after a
    crash between the copy and the delete.
    """
    args = {}
    acl = settings.VIDEO_PROCESSED_OBJECT_ACL
    if public and acl:
        args["ACL"] = acl
    with _translate_errors("move an object", source):
        s3_client().copy_object(
            Bucket=_bucket(),
            Key=destination,
            CopySource={"Bucket": _bucket(), "Key": source},
            MetadataDirective="COPY",
            **args,
        )
    delete(source)


def presigned_get(key: str, *, expires_in: int) -> str:
    """A short-lived signed GET, readable whatever the object's ACL (admin previews)."""
    with _translate_errors("sign a download", key):
        return s3_client().generate_presigned_url(
            "get_object", Params={"Bucket": _bucket(), "Key": key}, ExpiresIn=expires_in
        )
