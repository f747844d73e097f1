"""Admin for videos: the read-only video list, with poster and player columns.

Video rows are never edited, added or deleted here: uploads and deletion belong to
their owners. The moderation app adds the open-report column, the moderation actions
and the report queue for videos (``VideoMediaMixin`` is shared with it).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.utils.html import format_html, format_html_join

from tiktok.admin import ReadOnlyAdmin
from videos import store
from videos.models import Moderation, Video, VideoStatus


def media_url(video: Video, key: str) -> str | None:
    """A signed URL for one of the video's objects where it is now (maybe quarantined).

    Signed, so it works for private quarantined objects too: moderators can review a
    video that no longer plays for anyone else.
    """
    if not key:
        return None
    if video.status == VideoStatus.READY and video.moderation != Moderation.VISIBLE:
        key = store.quarantine_prefix(video_id=video.id) + key
    return store.presigned_get(key, expires_in=settings.VIDEO_PLAYBACK_URL_EXPIRY_SECONDS)


class VideoMediaMixin:
    """Poster and player columns shared by the video list and the report queue."""

    @admin.display(description="poster")
    def poster_image(self, video: Video) -> str:
        url = media_url(video, video.poster.name)
        if not url:
            return "–"
        return format_html(
            '<img src="{}" alt="poster" class="video-poster" style="height:72px;border-radius:4px">', url
        )

    @admin.display(description="poster")
    def poster_large(self, video: Video) -> str:
        url = media_url(video, video.poster.name)
        if not url:
            return "–"
        return format_html('<img src="{}" alt="poster" style="max-height:360px">', url)

    @admin.display(description="play")
    def player_link(self, video: Video) -> str:
        links = []
        original = media_url(video, video.original_key) if video.status == VideoStatus.READY else None
        if original:
            links.append((original, "original"))
        if video.hls_master_key and video.moderation == Moderation.VISIBLE:
            links.append((media_url(video, video.hls_master_key), "HLS"))
        if not links:
            return "–"
        return format_html_join(" · ", '<a href="{}" target="_blank" rel="noopener">{}</a>', links)

    @admin.display(description="player")
    def player(self, video: Video) -> str:
        if video.status != VideoStatus.READY:
            return f"Not playable ({video.get_status_display()})."
        return format_html(
            '<video controls preload="none" poster="{}" src="{}" style="max-height:480px"></video><br>{}',
            media_url(video, video.poster.name) or "",
            media_url(video, video.original_key),
            self.player_link(video),
        )


@admin.register(Video)
class VideoAdmin(VideoMediaMixin, ReadOnlyAdmin):
    list_display = (
        "poster_image", "short_id", "caption_short", "owner", "status", "moderation", "moderation_final",
        "comments_count", "likes_count", "published_at", "created_at",
    )  # fmt: skip
    list_display_links = ("short_id",)
    list_filter = ("status", "moderation", "moderation_final", "created_at", "published_at")
    search_fields = ("caption", "owner__username")
    list_select_related = ("owner",)
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    list_per_page = 100
    fields = (
        "poster_large", "player", "id", "owner", "caption", "status", "moderation", "moderation_final",
        "failure_reason", "content_type", "size_bytes", "duration", "width", "height",
        "renditions", "original_key", "poster", "hls_master_key", "likes_count", "favorites_count",
        "comments_count", "views_count", "processing_attempts", "upload_expires_at", "created_at", "updated_at",
        "published_at",
    )  # fmt: skip
    readonly_fields = fields

    @admin.display(description="id", ordering="id")
    def short_id(self, video: Video) -> str:
        return str(video.id)[:8]

    @admin.display(description="caption")
    def caption_short(self, video: Video) -> str:
        return video.caption if len(video.caption) <= 60 else f"{video.caption[:59]}…"
