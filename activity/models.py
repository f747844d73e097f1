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
