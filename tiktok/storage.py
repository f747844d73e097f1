"""The object store (S3 through boto3): the one module that calls it.

It owns the client (from the ``AWS_*`` settings), presigned PUT and GET URLs, HEAD,
reads, writes, copies, deletes and the translation of store failures, plus the checks
and the ticket of a presigned upload. The apps keep only their key layouts and their
own checks (``accounts.avatars``, ``videos.store``).

Transient failures (connection errors, timeouts, 5xx, throttling) are raised as
``StoreUnavailableError`` so tasks can retry them and the API answers 503; a missing
object is ``ObjectMissingError``, an object overwritten since it was checked
``ObjectChangedError``.

What the server writes and Django addresses through a model's file field (processed
avatars, posters) goes through ``tiktok.media_storage`` (django-storages) instead; it
shares this module's client settings and error translation.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

import boto3
import botocore.exceptions
from botocore.config import Config
from django.conf import settings
from django.utils import timezone

from tiktok.exceptions import ApplicationError, ServiceUnavailableError

# Processed objects never change once written (new content gets a new key).
IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable"

_TRANSIENT_CODES = {"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "ServiceUnavailable"}
_MISSING_CODES = {"404", "NoSuchKey", "NotFound"}


def client_config() -> Config:
    """Signature, addressing, timeouts and retries of every S3 client (``tiktok.media_storage`` too)."""
    return Config(
        signature_version=settings.AWS_S3_SIGNATURE_VERSION,
        s3={"addressing_style": settings.AWS_S3_ADDRESSING_STYLE},
        connect_timeout=2,
        read_timeout=30,
        retries={"max_attempts": 2, "mode": "standard"},
    )


@lru_cache(maxsize=1)
def s3_client():
    return boto3.client(
        "s3",
        endpoint_url=settings.AWS_S3_ENDPOINT_URL or None,
        aws_access_key_id=settings.AWS_ACCESS_KEY_ID,
        aws_secret_access_key=settings.AWS_SECRET_ACCESS_KEY,
        region_name=settings.AWS_S3_REGION_NAME,
        config=client_config(),
    )


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


@dataclass(frozen=True)
class UploadTicket:
    """Where and how the client sends an upload's bytes (a presigned PUT)."""

    method: str
    url: str
    headers: dict[str, str]
    expires_at: datetime


def _bucket() -> str:
    return settings.AWS_STORAGE_BUCKET_NAME


@contextmanager
def translate_errors(action: str, key: str) -> Iterator[None]:
    """Raise store failures as ``ObjectMissingError``, ``ObjectChangedError`` or
    ``StoreUnavailableError`` (``action`` completes "Object storage failed to ...")."""
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


# --- Presigned uploads ------------------------------------------------------------------


def normalise_content_type(content_type: str | None) -> str:
    """``"Video/MP4; codecs=x"`` -> ``"video/mp4"``."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def check_declared_upload(*, content_type: str, size_bytes: int, allowed: list[str], limit: int, kind: str) -> str:
    """The normalised type of a declared upload, or the 400 that refuses it.

    ``kind`` names the thing in messages ("image", "video").
    """
    content_type = normalise_content_type(content_type)
    allowed = [item.lower() for item in allowed]
    if content_type not in allowed:
        raise ApplicationError(
            f"Unsupported {kind} type; use one of {', '.join(allowed)}.",
            code="unsupported_content_type",
            fields={"content_type": [f"One of {', '.join(allowed)}."]},
        )
    if size_bytes <= 0:
        raise ApplicationError(
            "size_bytes must be the file's size in bytes.", code="invalid_size", fields={"size_bytes": ["Above 0."]}
        )
    if size_bytes > limit:
        raise ApplicationError(
            f"The file is too large; the limit is {limit} bytes.",
            code="upload_too_large",
            fields={"size_bytes": [f"At most {limit}."]},
        )
    return content_type


def upload_mismatches(found: ObjectInfo, *, size_bytes: int, content_type: str) -> dict[str, list[str]]:
    """How an uploaded object differs from what was declared (empty when it matches)."""
    problems: dict[str, list[str]] = {}
    if found.size != size_bytes:
        problems["size_bytes"] = [f"Declared {size_bytes} bytes, received {found.size}."]
    received = normalise_content_type(found.content_type)
    if received != content_type:
        problems["content_type"] = [f"Declared {content_type}, received {received or 'none'}."]
    return problems


def presigned_put(*, key: str, content_type: str, size_bytes: int, expires_in: int) -> str:
    """A URL the client PUTs the bytes to; type and length are part of the signature."""
    with translate_errors("sign an upload", key):
        return s3_client().generate_presigned_url(
            "put_object",
            Params={"Bucket": _bucket(), "Key": key, "ContentType": content_type, "ContentLength": size_bytes},
            ExpiresIn=expires_in,
            HttpMethod="PUT",
        )


def upload_ticket(*, key: str, content_type: str, size_bytes: int, expires_in: int) -> UploadTicket:
    """A presigned PUT of ``key`` valid for ``expires_in`` seconds, as the client receives it."""
    url = presigned_put(key=key, content_type=content_type, size_bytes=size_bytes, expires_in=expires_in)
    return UploadTicket(
        method="PUT",
        url=url,
        headers={"Content-Type": content_type},
        expires_at=timezone.now() + timedelta(seconds=expires_in),
    )


def presigned_get(key: str, *, expires_in: int | None = None) -> str:
    """A short-lived signed GET (signing is local: no request to the store).

    ``expires_in`` defaults to ``VIDEO_PLAYBACK_URL_EXPIRY_SECONDS``.
    """
    with translate_errors("sign a download", key):
        return s3_client().generate_presigned_url(
            "get_object",
            Params={"Bucket": _bucket(), "Key": key},
            ExpiresIn=expires_in or settings.VIDEO_PLAYBACK_URL_EXPIRY_SECONDS,
        )


# --- Objects ----------------------------------------------------------------------------


def head(key: str) -> ObjectInfo:
    """Size and content type of an object; ``ObjectMissingError`` when there is none."""
    with translate_errors("read an object", key):
        response = s3_client().head_object(Bucket=_bucket(), Key=key)
    return ObjectInfo(
        size=int(response["ContentLength"]), content_type=response.get("ContentType", ""), etag=response.get("ETag", "")
    )


def read_bytes(key: str) -> bytes:
    """A small object's bytes; ``ObjectMissingError`` when there is none."""
    with translate_errors("read an object", key):
        return s3_client().get_object(Bucket=_bucket(), Key=key)["Body"].read()


def download(key: str, destination: Path) -> None:
    with translate_errors("download an object", key):
        s3_client().download_file(_bucket(), key, str(destination))


def upload_file(path: Path, key: str, **extra) -> None:
    """Upload a file; ``extra`` are ``put_object`` arguments (``ContentType``, ``CacheControl``)."""
    with translate_errors("upload an object", key):
        s3_client().upload_file(str(path), _bucket(), key, ExtraArgs=extra)


def put_bytes(data: bytes, key: str, **extra) -> None:
    """Write ``data`` to ``key``; ``extra`` are ``put_object`` arguments."""
    with translate_errors("upload an object", key):
        s3_client().put_object(Bucket=_bucket(), Key=key, Body=data, **extra)


def delete(key: str) -> None:
    with translate_errors("delete an object", key):
        s3_client().delete_object(Bucket=_bucket(), Key=key)


def list_keys(prefix: str) -> list[str]:
    keys: list[str] = []
    with translate_errors("list objects", prefix):
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
        with translate_errors("delete objects", prefix):
            s3_client().delete_objects(
                Bucket=_bucket(), Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True}
            )
    return len(keys)


def copy(source: str, destination: str, *, etag: str = "") -> None:
    """Copy ``source`` to ``destination`` with its type and headers.

    With ``etag``, exactly that version: ``ObjectChangedError`` if ``source`` was
    overwritten since the ETag was read. ``ObjectMissingError`` if it is gone.
    """
    condition = {"CopySourceIfMatch": etag} if etag else {}
    with translate_errors("copy an object", source):
        s3_client().copy_object(
            Bucket=_bucket(),
            Key=destination,
            CopySource={"Bucket": _bucket(), "Key": source},
            MetadataDirective="COPY",
            **condition,
        )


def move(source: str, destination: str) -> None:
    """Move an object (copy, then delete the source), keeping its type and headers.

    Safe to repeat after a crash between the copy and the delete.
    """
    copy(source, destination)
    delete(source)
