"""Profile pictures, top to bottom: presigned upload, completion, processing, URLs.

1. ``avatar_create_upload`` -> a presigned PUT for ``avatars/<user_id>/uploads/<id>``
   (image types only, size cap); the user's ``avatar_status`` is ``awaiting_upload``.
2. ``avatar_complete_upload`` -> HEAD checks the object against what was declared, the
   status becomes ``processing`` and ``accounts.tasks.avatar_process`` runs after commit.
3. ``avatar_process`` (worker) -> decodes the image with Pillow (refusing other formats,
   oversized dimensions and anything that does not decode), strips metadata by copying
   pixels only, makes the square sizes of ``AVATAR_SIZES`` as JPEG and writes them through
   the user's image fields (``User.avatar``, ``User.avatar_thumbnail``: the default storage,
   ``avatars/<user_id>/<id>-<size>.jpg``), then swaps them in (``ready``) or records a
   reason the owner can read (``failed``; the previous avatar stays). The upload is deleted.

The bucket is private: URLs are the fields' ``url`` (``tiktok.media_storage``: CDN token
or presigned). The upload flow goes through ``tiktok.storage`` (boto3: signs, checks
declared uploads and translates store failures); this module keeps the key layout and
the image checks.
"""

from __future__ import annotations

import io
import logging
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from PIL import Image, ImageOps, UnidentifiedImageError

from accounts.models import AvatarStatus, User
from tiktok import storage
from tiktok.exceptions import ApplicationError, ConflictError
from tiktok.media_storage import file_url
from tiktok.outbox import enqueue_on_commit

logger = logging.getLogger(__name__)

UPLOAD_KEY = "avatars/{user_id}/uploads/{upload_id}"
# Under ``avatars/<user_id>/`` (``User.avatar``'s ``upload_to``).
SIZE_NAME = "{upload_id}-{size}.jpg"
# Which image field of the user holds each of ``AVATAR_SIZES``.
SIZE_FIELDS = {"avatar": "avatar", "thumbnail": "avatar_thumbnail"}
# Formats Pillow must recognise in the bytes (the declared type is only a first filter).
DECODED_FORMATS = {"JPEG", "PNG", "WEBP"}
JPEG_QUALITY = 85


# The store's transient failure, under the name the avatar task retries.
AvatarStoreError = storage.StoreUnavailableError


class AvatarRejectedError(Exception):
    """The image cannot become an avatar; ``reason`` is shown to its owner."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# --- URLs (reads) ---------------------------------------------------------------------


def avatar_urls(user: User) -> dict[str, str | None]:
    """``avatar_url`` and ``avatar_thumbnail_url`` (null until an avatar is ready)."""
    return {
        "avatar_url": file_url(user.avatar),
        "avatar_thumbnail_url": file_url(user.avatar_thumbnail),
    }


# --- Upload ---------------------------------------------------------------------------


def avatar_create_upload(*, user: User, content_type: str, size_bytes: int) -> storage.UploadTicket:
    content_type = storage.check_declared_upload(
        content_type=content_type,
        size_bytes=size_bytes,
        allowed=settings.AVATAR_ALLOWED_CONTENT_TYPES,
        limit=settings.AVATAR_MAX_UPLOAD_BYTES,
        kind="image",
    )
    key = UPLOAD_KEY.format(user_id=user.pk, upload_id=uuid.uuid4().hex)
    ticket = storage.upload_ticket(
        key=key, content_type=content_type, size_bytes=size_bytes, expires_in=settings.AVATAR_UPLOAD_URL_EXPIRY_SECONDS
    )
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        locked.avatar_upload_key = key
        locked.avatar_upload_content_type = content_type
        locked.avatar_upload_size_bytes = size_bytes
        locked.avatar_status = AvatarStatus.AWAITING_UPLOAD
        locked.avatar_failure_reason = ""
        locked.save(update_fields=_UPLOAD_FIELDS)
    return ticket


_UPLOAD_FIELDS = [
    "avatar_upload_key", "avatar_upload_content_type", "avatar_upload_size_bytes", "avatar_status",
    "avatar_failure_reason",
]  # fmt: skip


def avatar_complete_upload(*, user: User) -> User:
    """Check the uploaded object and hand it to the worker (idempotent while processing)."""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.avatar_status == AvatarStatus.PROCESSING:
            return locked
        if locked.avatar_status != AvatarStatus.AWAITING_UPLOAD or not locked.avatar_upload_key:
            raise ConflictError("No avatar upload is waiting; start one first.", code="no_avatar_upload")
        key = locked.avatar_upload_key
    try:
        found = storage.head(key)
    except storage.ObjectMissingError as exc:
        raise ConflictError(
            "The image has not arrived yet; PUT it to the upload URL first.", code="upload_missing"
        ) from exc
    problems = storage.upload_mismatches(
        found, size_bytes=locked.avatar_upload_size_bytes, content_type=locked.avatar_upload_content_type
    )
    if problems:
        storage.delete(key)
        raise ApplicationError(
            "The uploaded file does not match what was declared; upload it again.",
            code="upload_mismatch",
            fields=problems,
        )
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.avatar_upload_key != key or locked.avatar_status != AvatarStatus.AWAITING_UPLOAD:
            return locked  # a newer upload or a concurrent complete won
        locked.avatar_status = AvatarStatus.PROCESSING
        locked.save(update_fields=["avatar_status"])
        enqueue_on_commit("accounts.tasks.avatar_process", locked.pk, key)
    return locked


# --- Processing (worker) --------------------------------------------------------------


def _square_jpegs(data: bytes) -> dict[str, bytes]:
    """Decode, check and resize ``data``; ``AvatarRejectedError`` for anything unusable."""
    limit = settings.AVATAR_MAX_DIMENSION
    try:
        # Only these decoders may look at the bytes (no GIF, TIFF, EPS... attack surface).
        with Image.open(io.BytesIO(data), formats=sorted(DECODED_FORMATS)) as image:
            width, height = image.size
            if width > limit or height > limit:
                raise AvatarRejectedError(f"The image is {width}x{height}; at most {limit}x{limit} is accepted.")
            image.load()  # the real decode: truncated or corrupt data fails here
            image = ImageOps.exif_transpose(image)
            pixels = image.convert("RGB")
    except AvatarRejectedError:
        raise
    except UnidentifiedImageError as exc:
        raise AvatarRejectedError("The file is not a JPEG, PNG or WebP image.") from exc
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise AvatarRejectedError("The file could not be read as an image.") from exc
    outputs = {}
    for name, size in settings.AVATAR_SIZES.items():
        fitted = ImageOps.fit(pixels, (size, size), method=Image.Resampling.LANCZOS)
        # A new image from the pixels alone: no EXIF, GPS, ICC or comments survive.
        clean = Image.new("RGB", fitted.size)
        clean.paste(fitted)
        buffer = io.BytesIO()
        clean.save(buffer, format="JPEG", quality=JPEG_QUALITY, optimize=True)
        outputs[name] = buffer.getvalue()
    return outputs


def avatar_process(*, user_id: int, upload_key: str) -> str:
    """Turn an uploaded image into the user's avatar; returns "ready", "failed" or "stale".

    Idempotent: an upload that is no longer the user's pending one is only deleted.
    """
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id).first()
        current = user is not None and user.avatar_upload_key == upload_key
        if current and user.avatar_status != AvatarStatus.PROCESSING:
            return user.avatar_status
    if not current:
        _delete_quietly(upload_key)
        return "stale"
    try:
        if storage.head(upload_key).size > settings.AVATAR_MAX_UPLOAD_BYTES:
            raise AvatarRejectedError("The image is too large.")
        outputs = _square_jpegs(storage.read_bytes(upload_key))
    except storage.ObjectMissingError:
        return _finish(user_id, upload_key, reason="The uploaded image is gone; please upload it again.")
    except AvatarRejectedError as exc:
        return _finish(user_id, upload_key, reason=exc.reason)
    upload_id = upload_key.rsplit("/", 1)[1]
    names = {}
    for size_name, body in outputs.items():
        # Written through the field's storage (immutable, private); the row takes the
        # names under its lock in ``_finish``.
        image = getattr(user, SIZE_FIELDS[size_name])
        image.save(
            SIZE_NAME.format(upload_id=upload_id, size=settings.AVATAR_SIZES[size_name]), ContentFile(body), save=False
        )
        names[size_name] = image.name
    return _finish(user_id, upload_key, names=names)


def _finish(user_id: int, upload_key: str, *, names: dict[str, str] | None = None, reason: str = "") -> str:
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id).first()
        if user is None or user.avatar_upload_key != upload_key:
            outcome = "stale"
        elif names is not None:
            for size_name, field_name in SIZE_FIELDS.items():
                setattr(user, field_name, names[size_name])
            user.avatar_status = AvatarStatus.READY
            user.avatar_failure_reason = ""
            outcome = "ready"
        else:
            logger.info("avatar of user %s rejected: %s", user_id, reason)
            user.avatar_status = AvatarStatus.FAILED
            user.avatar_failure_reason = reason[:300]
            outcome = "failed"
        if user is not None and outcome != "stale":
            user.avatar_upload_key = ""
            user.save(
                update_fields=[
                    "avatar", "avatar_thumbnail", "avatar_status", "avatar_failure_reason",
                    "avatar_upload_key",
                ]
            )  # fmt: skip
    _delete_quietly(upload_key)
    return outcome


def _delete_quietly(key: str) -> None:
    try:
        storage.delete(key)
    except (storage.StoreUnavailableError, storage.ObjectMissingError):
        logger.warning("could not delete avatar upload %s", key)
