"""Admin for follows, likes, favorites, views and comments: read-only listings.

Rows change only through the services (counters and feeds follow their writes). The
moderation app adds the comment actions, the reports and the comment report queue.
"""

from __future__ import annotations

from django.contrib import admin

from activity.models import Comment, Favorite, Follow, Like, View
from tiktok.admin import ReadOnlyAdmin


class RelationAdmin(ReadOnlyAdmin):
    """Rows written by the API's services only; the admin lists them, newest first."""

    list_filter = ("created_at",)
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    list_per_page = 100
    show_full_result_count = False


@admin.register(Follow)
class FollowAdmin(RelationAdmin):
    list_display = ("id", "follower", "followee", "created_at")
    search_fields = ("follower__username", "followee__username")
    list_select_related = ("follower", "followee")


@admin.register(Like)
class LikeAdmin(RelationAdmin):
    list_display = ("id", "user", "video", "created_at")
    search_fields = ("user__username", "video__caption")
    list_select_related = ("user", "video")


@admin.register(Favorite)
class FavoriteAdmin(LikeAdmin):
    pass


@admin.register(View)
class ViewAdmin(RelationAdmin):
    list_display = ("id", "viewer", "video", "watched_ms", "created_at")
    search_fields = ("viewer__username",)
    list_select_related = ("viewer", "video")


def shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


@admin.register(Comment)
class CommentAdmin(ReadOnlyAdmin):
    """Comments; removal is a state (reversible, counted, audited), set by moderation actions."""

    list_display = ("id", "author", "video", "short_text", "state", "created_at")
    list_filter = ("state", "created_at")
    search_fields = ("text", "author__username")
    list_select_related = ("author", "video")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    list_per_page = 100
    fields = ("author", "video", "text", "state", "created_at")

    @admin.display(description="text")
    def short_text(self, comment: Comment) -> str:
        return shorten(comment.text)
