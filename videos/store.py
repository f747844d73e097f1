"""The object store as the videos app uses it: keys, presigned URLs, uploads, deletes.

The only module of the app that talks to S3 (through ``tiktok.storage.s3_client``).
Transient store failures (connection errors, timeouts, 5xx, throttling) are raised as
``StoreUnavailableError`` so tasks can retry them and the API answers 503.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import botocore.exceptions
from django.conf import settings

from tiktok.exceptions import ServiceUnavailableError
from tiktok.storage import s3_client

logger = logging.getLogger(__name__)

# Where the client PUTs the original (presigned, writable until the URL expires).
ORIGINALS_PREFIX = "originals/"
ORIGINAL_KEY = "originals/{owner_id}/{video_id}"
# The copy of the original taken at ``complete``: only the server writes here, so what
# is processed cannot be swapped through a still-valid presigned PUT. One key per
# attempt (``<token>``), so a losing concurrent ``complete`` never overwrites the winner's.
VERIFIED_PREFIX = "verified/{video_id}/"
PROCESSED_PREFIX = "processed/{video_id}/"
# Where a taken-down video's objects wait (private), each under its own key:
# ``quarantine/<video_id>/processed/<video_id>/...`` and ``.../verified/<video_id>/<token>``.
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


class ObjectChangedError(Exception):
    """The object is no longer the version that was checked (its ETag changed)."""


@dataclass(frozen=True)
class ObjectInfo:
    size: int
    content_type: str
    etag: str = ""


def original_key(*, owner_id: int, video_id) -> str:
    return ORIGINAL_KEY.format(owner_id=owner_id, video_id=video_id)


def video_id_of_original(key: str) -> str | None:
    """The video id in an ``originals/<owner_id>/<video_id>`` key (None for anything else)."""
    parts = key.split("/")
    return parts[2] if len(parts) == 3 and key.startswith(ORIGINALS_PREFIX) and parts[2] else None


def verified_prefix(*, video_id) -> str:
    return VERIFIED_PREFIX.format(video_id=video_id)


def new_verified_key(*, video_id) -> str:
    return f"{verified_prefix(video_id=video_id)}{secrets.token_hex(8)}"


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
        if code == "PreconditionFailed" or status == 412:
            raise ObjectChangedError(key) from exc
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
    return ObjectInfo(
        size=int(response["ContentLength"]), content_type=response.get("ContentType", ""), etag=response.get("ETag", "")
    )


def read_bytes(key: str) -> bytes:
    """A small object's bytes (playlists); ``ObjectMissingError`` when there is none."""
    with _translate_errors("read an object", key):
        return s3_client().get_object(Bucket=_bucket(), Key=key)["Body"].read()


def download(key: str, destination: Path) -> None:
    with _translate_errors("download an object", key):
        s3_client().download_file(_bucket(), key, str(destination))


def _processed_object_args(content_type: str) -> dict:
    # No ACL: the bucket is private; clients read through the CDN or presigned URLs.
    return {"ContentType": content_type, "CacheControl": IMMUTABLE_CACHE_CONTROL}


def upload(path: Path, key: str, *, content_type: str | None = None) -> None:
    """Upload a processed file (immutable, private like everything in the bucket)."""
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


def move(source: str, destination: str) -> None:
    """Move an object (copy, then delete the source), keeping its type and headers.

    Safe to repeat after a crash between the copy and the delete.
    """
    with _translate_errors("move an object", source):
        s3_client().copy_object(
            Bucket=_bucket(),
            Key=destination,
            CopySource={"Bucket": _bucket(), "Key": source},
            MetadataDirective="COPY",
        )
    delete(source)


def copy_pinned(source: str, destination: str, *, etag: str) -> None:
    """Copy exactly the version ``etag`` of ``source`` to a private ``destination``.

    ``ObjectChangedError`` if ``source`` was overwritten since that ETag was read, and
    ``ObjectMissingError`` if it is gone.
    """
    condition = {"CopySourceIfMatch": etag} if etag else {}
    with _translate_errors("copy an object", source):
        s3_client().copy_object(
            Bucket=_bucket(),
            Key=destination,
            CopySource={"Bucket": _bucket(), "Key": source},
            MetadataDirective="COPY",
            **condition,
        )


def list_original_keys() -> list[str]:
    """Every object under ``originals/``: uploads in flight (and strays to clean up)."""
    return list_keys(ORIGINALS_PREFIX)


def presigned_get(key: str, *, expires_in: int) -> str:
    """A short-lived signed GET (admin previews, playlists served in direct mode)."""
    with _translate_errors("sign a download", key):
        return s3_client().generate_presigned_url(
            "get_object", Params={"Bucket": _bucket(), "Key": key}, ExpiresIn=expires_in
        )
