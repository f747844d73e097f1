"""Admin for videos (the moderation workflow comes later and calls the services)."""

from django.contrib import admin

from videos.models import Video


@admin.register(Video)
class VideoAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "status", "moderation", "published_at", "created_at")
    list_filter = ("status", "moderation")
    search_fields = ("caption", "owner__username")
    list_select_related = ("owner",)
    raw_id_fields = ("owner",)
    ordering = ("-created_at",)
    readonly_fields = (
        "id", "status", "content_type", "size_bytes", "upload_expires_at", "original_key", "poster_key",
        "hls_master_key", "renditions", "duration", "width", "height", "failure_reason", "processing_attempts",
        "likes_count", "favorites_count", "comments_count", "views_count", "created_at", "updated_at", "published_at",
    )  # fmt: skip

    # Moderation goes through the service so feeds and cached cards follow.
    readonly_fields = (*readonly_fields, "moderation")
    actions = ("make_visible", "hide", "remove")

    def _moderate(self, request, queryset, moderation: str) -> None:
        from videos.services import video_set_moderation

        count = 0
        for video in queryset:
            video_set_moderation(video=video, moderation=moderation, actor=request.user)
            count += 1
        self.message_user(request, f"{count} video(s) set to {moderation}.")

    @admin.action(description="Make visible")
    def make_visible(self, request, queryset):
        self._moderate(request, queryset, "visible")

    @admin.action(description="Hide")
    def hide(self, request, queryset):
        self._moderate(request, queryset, "hidden")

    @admin.action(description="Remove")
    def remove(self, request, queryset):
        self._moderate(request, queryset, "removed")
