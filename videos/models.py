"""Videos: metadata and object keys (never bytes), processing and moderation state."""

import uuid

from django.conf import settings
from django.db import models

from videos import store


class VideoStatus(models.TextChoices):
    AWAITING_UPLOAD = "awaiting_upload", "Awaiting upload"
    PROCESSING = "processing", "Processing"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class Moderation(models.TextChoices):
    VISIBLE = "visible", "Visible"
    HIDDEN = "hidden", "Hidden"
    REMOVED = "removed", "Removed"


def public_video_q(prefix: str = "") -> models.Q:
    """The one rule for who may see a video: ready, visible, published, creator not suspended.

    ``prefix`` applies it across a relation (``"video__"`` from a like or a comment).
    """
    return models.Q(
        **{
            f"{prefix}status": VideoStatus.READY,
            f"{prefix}moderation": Moderation.VISIBLE,
            f"{prefix}published_at__isnull": False,
            f"{prefix}owner__suspended_at__isnull": True,
        }
    )


class VideoQuerySet(models.QuerySet):
    def public(self) -> "VideoQuerySet":
        """Videos anyone may see (``public_video_q``)."""
        return self.filter(public_video_q())


# Feed members (``feed/store.py``): a plain sequence, so a later insert gets a larger id
# (the feed's tie-break after publish time) and the ids stay small integers, which Redis
# stores compactly in a listpack. Lua compares members with ``tonumber`` (a double): exact
# while ids stay below ``FEED_ID_MAX`` (2^53), which a sequence reaches after 9e15 inserts.
FEED_ID_SEQUENCE = "videos_video_feed_id_seq"
FEED_ID_MAX = 2**53


def poster_upload_to(video: "Video", filename: str) -> str:
    """``processed/<video_id>/<filename>``: beside the renditions, so the video's CDN token,
    quarantine and deletion (all by that prefix) cover it."""
    return store.processed_prefix(video_id=video.id) + filename


class Video(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Never shown by the API (public ids are the UUIDs); returned by INSERT ... RETURNING.
    feed_id = models.BigIntegerField(
        unique=True,
        editable=False,
        db_default=models.Func(
            models.Value(FEED_ID_SEQUENCE), function="nextval", output_field=models.BigIntegerField()
        ),
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="videos")
    caption = models.CharField(max_length=2200, blank=True)
    status = models.CharField(max_length=20, choices=VideoStatus.choices, default=VideoStatus.AWAITING_UPLOAD)
    moderation = models.CharField(max_length=10, choices=Moderation.choices, default=Moderation.VISIBLE)
    # True once a moderator decided; automatic hiding no longer applies.
    moderation_final = models.BooleanField(default=False)

    # What the client declared when it asked to upload.
    content_type = models.CharField(max_length=64)
    size_bytes = models.BigIntegerField()
    upload_expires_at = models.DateTimeField()

    # Object keys in the bucket; URLs are built at read time. The poster is written by the
    # worker through the default storage (``tiktok.media_storage.MediaStorage``), so
    # ``poster.url`` is the signed URL; its column keeps its old name.
    original_key = models.CharField(max_length=255)
    poster = models.ImageField(upload_to=poster_upload_to, max_length=255, blank=True, db_column="poster_key")
    hls_master_key = models.CharField(max_length=255, blank=True)
    # [{"name": "360p", "width": .., "height": .., "bandwidth": .., "playlist_key": ..}, ...]
    renditions = models.JSONField(default=list, blank=True)

    duration = models.FloatField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    failure_reason = models.CharField(max_length=300, blank=True)
    processing_attempts = models.PositiveIntegerField(default=0)

    likes_count = models.PositiveIntegerField(default=0)
    favorites_count = models.PositiveIntegerField(default=0)
    comments_count = models.PositiveIntegerField(default=0)
    views_count = models.PositiveBigIntegerField(default=0)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)

    objects = VideoQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["owner", "-created_at", "-id"], name="video_owner_created"),
            models.Index(fields=["owner", "-published_at", "-id"], name="video_owner_published"),
            # The feed order everywhere: (publish time, feed id) descending.
            models.Index(fields=["-published_at", "-feed_id"], name="video_published_feed"),
            models.Index(fields=["status", "upload_expires_at"], name="video_status_expiry"),
        ]

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"


class Hashtag(models.Model):
    """A normalised hashtag (``videos.hashtags``); ``video_count`` counts public videos."""

    name = models.CharField(max_length=100, unique=True)
    # Recounted exactly by ``videos.hashtags.hashtag_counts_recount`` (beat).
    video_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # Prefix search (``name LIKE 'ca%'``) whatever the database collation.
            models.Index(fields=["name"], opclasses=["varchar_pattern_ops"], name="hashtag_name_prefix"),
        ]

    def __str__(self) -> str:
        return f"#{self.name}"


class VideoHashtag(models.Model):
    video = models.ForeignKey(Video, on_delete=models.CASCADE, related_name="hashtag_links")
    hashtag = models.ForeignKey(Hashtag, on_delete=models.CASCADE, related_name="video_links")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["video", "hashtag"], name="video_hashtag_unique")]
        indexes = [models.Index(fields=["hashtag", "video"], name="video_hashtag_by_tag")]

    def __str__(self) -> str:
        return f"{self.video_id} #{self.hashtag_id}"
