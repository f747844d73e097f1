"""The object store as the videos app lays it out: keys of originals, verified copies,
processed media and quarantine, and how processed objects are written.

Every call to S3 goes through ``tiktok.storage`` (client, presigning, error translation);
its functions and errors are re-exported here under the names the app uses, so the
videos app reaches the store through this one module.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from tiktok.storage import (
    IMMUTABLE_CACHE_CONTROL,
    ObjectChangedError,
    ObjectInfo,
    ObjectMissingError,
    StoreUnavailableError,
    UploadTicket,
    check_declared_upload,
    copy,
    delete,
    delete_prefix,
    download,
    head,
    list_keys,
    move,
    presigned_get,
    presigned_put,
    put_bytes,
    read_bytes,
    upload_file,
    upload_mismatches,
    upload_ticket,
)

__all__ = [
    "IMMUTABLE_CACHE_CONTROL", "ObjectChangedError", "ObjectInfo", "ObjectMissingError", "StoreUnavailableError",
    "UploadTicket",
    "check_declared_upload", "copy_pinned", "delete",
    "delete_prefix", "download", "head", "list_keys", "list_original_keys", "move", "new_verified_key",
    "original_key", "presigned_get", "presigned_put", "processed_prefix", "quarantine_prefix", "read_bytes",
    "upload", "upload_bytes", "upload_mismatches", "upload_ticket", "verified_prefix", "video_id_of_original",
]  # fmt: skip

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


def _processed_object_args(content_type: str) -> dict:
    # No ACL: the bucket is private; clients read through the CDN or presigned URLs.
    return {"ContentType": content_type, "CacheControl": IMMUTABLE_CACHE_CONTROL}


def upload(path: Path, key: str, *, content_type: str | None = None) -> None:
    """Upload a processed file (immutable, private like everything in the bucket)."""
    content_type = content_type or CONTENT_TYPES.get(path.suffix, "application/octet-stream")
    upload_file(path, key, **_processed_object_args(content_type))


def upload_bytes(data: bytes, key: str, *, content_type: str) -> None:
    put_bytes(data, key, **_processed_object_args(content_type))


def copy_pinned(source: str, destination: str, *, etag: str) -> None:
    """Copy exactly the version ``etag`` of ``source`` to a private ``destination``.

    ``ObjectChangedError`` if ``source`` was overwritten since that ETag was read, and
    ``ObjectMissingError`` if it is gone.
    """
    copy(source, destination, etag=etag)


def list_original_keys() -> list[str]:
    """Every object under ``originals/``: uploads in flight (and strays to clean up)."""
    return list_keys(ORIGINALS_PREFIX)
