"""Relations between users and videos: follows, likes, favorites, comments, views.

Reports of videos and comments live in ``moderation.models``.
"""

from django.conf import settings
from django.db import models


class Follow(models.Model):
    follower = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="following_set")
    followee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follower_set")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["follower", "followee"], name="follow_unique"),
            models.CheckConstraint(condition=~models.Q(follower=models.F("followee")), name="follow_not_self"),
        ]
        indexes = [
            # Fan-out reads a creator's followers in id order (keyset batches).
            models.Index(fields=["followee", "follower"], name="follow_followee_follower"),
            models.Index(fields=["followee", "-created_at", "-id"], name="follow_followee_created"),
            models.Index(fields=["follower", "-created_at", "-id"], name="follow_follower_created"),
        ]

    def __str__(self) -> str:
        return f"{self.follower_id} follows {self.followee_id}"


class Like(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="likes")
    video = models.ForeignKey("videos.Video", on_delete=models.CASCADE, related_name="likes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "video"], name="like_unique")]
        indexes = [
            models.Index(fields=["user", "-created_at", "-id"], name="like_user_created"),
            models.Index(fields=["video", "-created_at"], name="like_video_created"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} likes {self.video_id}"


class Favorite(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favorites")
    video = models.ForeignKey("videos.Video", on_delete=models.CASCADE, related_name="favorites")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "video"], name="favorite_unique")]
        indexes = [models.Index(fields=["user", "-created_at", "-id"], name="favorite_user_created")]

    def __str__(self) -> str:
        return f"{self.user_id} favorites {self.video_id}"


class CommentState(models.TextChoices):
    VISIBLE = "visible", "Visible"
    REMOVED = "removed", "Removed"


class Comment(models.Model):
    video = models.ForeignKey("videos.Video", on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comments")
    text = models.CharField(max_length=500)
    state = models.CharField(max_length=10, choices=CommentState.choices, default=CommentState.VISIBLE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["video", "created_at", "id"], name="comment_video_created")]

    def __str__(self) -> str:
        return f"comment {self.pk} by {self.author_id}"


class View(models.Model):
    """One impression with watch time; at most one per viewer per video per hour."""

    viewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="views")
    video = models.ForeignKey("videos.Video", on_delete=models.CASCADE, related_name="views")
    watched_ms = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["created_at"], name="view_created"),
            models.Index(fields=["viewer", "-created_at"], name="view_viewer_created"),
        ]

    def __str__(self) -> str:
        return f"{self.viewer_id} viewed {self.video_id}"


# --- Blocks, mutes (``activity.visibility``) and notifications (``activity.notifications``) ---


class Block(models.Model):
    """``blocker`` blocked ``blocked``: no follows either way, no interaction, no sight."""

    blocker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="blocks_made")
    blocked = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="blocks_received")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="block_unique"),
            models.CheckConstraint(condition=~models.Q(blocker=models.F("blocked")), name="block_not_self"),
        ]
        indexes = [
            models.Index(fields=["blocked", "blocker"], name="block_blocked_blocker"),
            models.Index(fields=["blocker", "-created_at", "-id"], name="block_blocker_created"),
        ]

    def __str__(self) -> str:
        return f"{self.blocker_id} blocks {self.blocked_id}"


class Mute(models.Model):
    """``muter`` muted ``muted``: their videos and notifications vanish for the muter only."""

    muter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mutes_made")
    muted = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mutes_received")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["muter", "muted"], name="mute_unique"),
            models.CheckConstraint(condition=~models.Q(muter=models.F("muted")), name="mute_not_self"),
        ]
        indexes = [
            models.Index(fields=["muted", "muter"], name="mute_muted_muter"),
            models.Index(fields=["muter", "-created_at", "-id"], name="mute_muter_created"),
        ]

    def __str__(self) -> str:
        return f"{self.muter_id} mutes {self.muted_id}"


class NotificationKind(models.TextChoices):
    FOLLOW = "follow", "Follow"
    LIKE = "like", "Like"
    COMMENT = "comment", "Comment"
    MENTION = "mention", "Mention"


class Notification(models.Model):
    """One inbox item: every actor of one (recipient, kind, target, time window).

    ``group_key`` names that aggregate (e.g. ``like:<video>:<window>``); the unique
    constraint on (recipient, group_key) makes a redelivered task find the same item.
    ``actor_count`` is exact (kept under the row lock with the actor rows).
    """

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=10, choices=NotificationKind.choices)
    group_key = models.CharField(max_length=120)
    video = models.ForeignKey("videos.Video", on_delete=models.CASCADE, null=True, related_name="+")
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, null=True, related_name="+")
    actor_count = models.PositiveIntegerField(default=0)
    read = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["recipient", "group_key"], name="notification_group_unique")]
        indexes = [
            models.Index(fields=["recipient", "-id"], name="notification_recipient_id"),
            models.Index(fields=["recipient"], condition=models.Q(read=False), name="notification_recipient_unread"),
            models.Index(fields=["created_at"], name="notification_created"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id}: {self.group_key}"


class NotificationActor(models.Model):
    """One actor of an aggregated notification (at most once: unique constraint)."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="actor_rows")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["notification", "actor"], name="notification_actor_unique")]
        indexes = [
            models.Index(fields=["notification", "-created_at", "-id"], name="notification_actor_recent"),
            models.Index(fields=["actor"], name="notification_actor_actor"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_id} in notification {self.notification_id}"
