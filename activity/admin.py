"""Admin for comments and reports (the moderation work extends these)."""

from django.contrib import admin

from activity.models import Comment, Report


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ("id", "author", "video", "short_text", "state", "created_at")
    list_filter = ("state", "created_at")
    search_fields = ("text", "author__username")
    list_select_related = ("author", "video")
    raw_id_fields = ("author", "video")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")

    @admin.display(description="text")
    def short_text(self, comment: Comment) -> str:
        return comment.text if len(comment.text) <= 80 else f"{comment.text[:79]}…"


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ("id", "reason", "status", "reporter", "video", "comment", "created_at", "resolved_by")
    list_filter = ("status", "reason", "created_at")
    search_fields = ("reporter__username", "details", "video__caption", "comment__text")
    list_select_related = ("reporter", "video", "comment", "resolved_by")
    raw_id_fields = ("reporter", "video", "comment", "resolved_by")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
