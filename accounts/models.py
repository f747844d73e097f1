"""Users. Usernames are stored in one canonical form (``normalize_username``)."""

import re
import unicodedata

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower

# What a new username may be made of, after normalisation.
USERNAME_PATTERN = re.compile(r"^[a-z0-9_.]{3,30}$")
USERNAME_RULE = "3 to 30 letters a-z, digits, '_' or '.'."


def normalize_username(username: str) -> str:
    """The canonical form of a username: NFKC, then case-folded.

    Look-alikes that Unicode folds together become the same name (``Probeſis``,
    ``PROBESIS`` -> ``probesis``), so login, lockouts and uniqueness all see one
    account. Letters outside ``USERNAME_PATTERN`` (``ı``, Cyrillic ``а``...) survive and
    are refused at registration; at login they simply match no one.
    """
    return unicodedata.normalize("NFKC", username or "").casefold().strip()


class CaseInsensitiveUserManager(UserManager):
    def get_by_natural_key(self, username):
        return self.get(username=normalize_username(username))


class AvatarStatus(models.TextChoices):
    NONE = "", "none"
    AWAITING_UPLOAD = "awaiting_upload", "awaiting upload"
    PROCESSING = "processing", "processing"
    READY = "ready", "ready"
    FAILED = "failed", "failed"


def avatar_upload_to(user: "User", filename: str) -> str:
    """``avatars/<user_id>/<filename>``: the user's prefix, which one CDN token covers."""
    return f"avatars/{user.pk}/{filename}"


class User(AbstractUser):
    display_name = models.CharField(max_length=64, blank=True)
    bio = models.CharField(max_length=300, blank=True)
    # Denormalised counters, flushed from Redis deltas and repaired by recounts.
    followers_count = models.PositiveIntegerField(default=0)
    following_count = models.PositiveIntegerField(default=0)
    # When the user last read their feed: feeds of long-inactive users are not kept.
    last_seen_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Moderation: a suspended user cannot log in or write; their videos leave feeds.
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspension_reason = models.CharField(max_length=300, blank=True)
    # Profile picture (``accounts.avatars``): the processed sizes, written by the worker
    # through the default storage (``tiktok.media_storage.MediaStorage``: the private
    # bucket; ``.url`` is signed), empty until one is ready (a failed replacement keeps
    # the previous one); then the upload in flight. The columns keep their old names.
    avatar = models.ImageField(upload_to=avatar_upload_to, max_length=200, blank=True, db_column="avatar_key")
    avatar_thumbnail = models.ImageField(
        upload_to=avatar_upload_to, max_length=200, blank=True, db_column="avatar_thumbnail_key"
    )
    avatar_upload_key = models.CharField(max_length=200, blank=True)
    avatar_upload_content_type = models.CharField(max_length=100, blank=True)
    avatar_upload_size_bytes = models.PositiveIntegerField(default=0)
    avatar_status = models.CharField(max_length=20, choices=AvatarStatus, blank=True, default=AvatarStatus.NONE)
    avatar_failure_reason = models.CharField(max_length=300, blank=True)

    objects = CaseInsensitiveUserManager()

    class Meta:
        permissions = [("suspend_user", "Can suspend and reinstate users")]
        constraints = [
            models.UniqueConstraint(Lower("username"), name="accounts_user_username_ci_unique"),
        ]

    @classmethod
    def normalize_username(cls, username):
        # Used by create_user(), createsuperuser and the admin's user forms.
        return normalize_username(username)

    def __str__(self) -> str:
        return self.username
