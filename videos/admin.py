"""Admin for videos: the video list and the report queue for videos.

Moderation happens through actions that ask for a reason and call services
(``videos.services.video_set_moderation``, ``activity.services.video_report_decide``),
so feeds, cached cards, quarantined media and the audit log follow. Video rows are
never edited, added or deleted here: uploads and deletion belong to their owners.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.db.models import Case, Count, Exists, IntegerField, Max, OuterRef, Prefetch, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils.html import format_html, format_html_join

from activity.models import Report, ReportReason, ReportStatus
from tiktok.admin_actions import reason_action
from tiktok.models import ReportedVideo
from videos import store
from videos.models import Moderation, Video, VideoStatus

MODERATE_PERMISSION = "videos.moderate_video"


def _open_reports(**target):
    return Report.objects.filter(status=ReportStatus.OPEN, **target)


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
    def poster(self, video: Video) -> str:
        url = media_url(video, video.poster_key)
        if not url:
            return "–"
        return format_html(
            '<img src="{}" alt="poster" class="video-poster" style="height:72px;border-radius:4px">', url
        )

    @admin.display(description="poster")
    def poster_large(self, video: Video) -> str:
        url = media_url(video, video.poster_key)
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
            media_url(video, video.poster_key) or "",
            media_url(video, video.original_key),
            self.player_link(video),
        )


def _set_moderation(moderation: str):
    def perform(modeladmin, request, video, reason):
        from videos.services import video_set_moderation

        video_set_moderation(video=video, moderation=moderation, actor=request.user, reason=reason)

    return perform


class ReportedFilter(admin.SimpleListFilter):
    title = "reported"
    parameter_name = "reported"

    def lookups(self, request, model_admin):
        return (("yes", "Has open reports"), ("no", "No open reports"))

    def queryset(self, request, queryset):
        has_reports = Exists(_open_reports(video=OuterRef("pk")))
        if self.value() == "yes":
            return queryset.filter(has_reports)
        if self.value() == "no":
            return queryset.exclude(has_reports)
        return queryset


@admin.register(Video)
class VideoAdmin(VideoMediaMixin, admin.ModelAdmin):
    list_display = (
        "poster", "short_id", "caption_short", "owner", "status", "moderation", "moderation_final",
        "open_reports", "comments_count", "likes_count", "published_at", "created_at",
    )  # fmt: skip
    list_display_links = ("short_id",)
    list_filter = ("status", "moderation", "moderation_final", ReportedFilter, "created_at", "published_at")
    search_fields = ("caption", "owner__username")
    list_select_related = ("owner",)
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    list_per_page = 100
    fields = (
        "poster_large", "player", "id", "owner", "caption", "status", "moderation", "moderation_final",
        "open_reports", "failure_reason", "content_type", "size_bytes", "duration", "width", "height",
        "renditions", "original_key", "poster_key", "hls_master_key", "likes_count", "favorites_count",
        "comments_count", "views_count", "processing_attempts", "upload_expires_at", "created_at", "updated_at",
        "published_at",
    )  # fmt: skip
    readonly_fields = fields
    actions = ("hide", "remove", "restore")

    hide = reason_action(
        name="hide",
        description="Hide selected videos (pending review)",
        permissions=("moderate",),
        perform=_set_moderation(Moderation.HIDDEN),
        done="{count} video(s) hidden.",
    )
    remove = reason_action(
        name="remove",
        description="Remove selected videos",
        permissions=("moderate",),
        perform=_set_moderation(Moderation.REMOVED),
        done="{count} video(s) removed.",
    )
    restore = reason_action(
        name="restore",
        description="Restore selected videos (make visible)",
        permissions=("moderate",),
        perform=_set_moderation(Moderation.VISIBLE),
        done="{count} video(s) restored.",
    )

    def get_queryset(self, request):
        counted = (
            _open_reports(video=OuterRef("pk")).order_by().values("video").annotate(count=Count("id")).values("count")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(open_reports=Coalesce(Subquery(counted, output_field=IntegerField()), 0))
        )

    def has_moderate_permission(self, request) -> bool:
        return request.user.has_perm(MODERATE_PERMISSION)

    # Rows change through uploads, processing and the actions above, never by hand.
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="id", ordering="id")
    def short_id(self, video: Video) -> str:
        return str(video.id)[:8]

    @admin.display(description="caption")
    def caption_short(self, video: Video) -> str:
        return video.caption if len(video.caption) <= 60 else f"{video.caption[:59]}…"

    @admin.display(description="open reports", ordering="open_reports")
    def open_reports(self, video: Video) -> int:
        return video.open_reports


class OpenReportInline(admin.TabularInline):
    model = Report
    fk_name = "video"
    verbose_name = "open report"
    verbose_name_plural = "open reports"
    fields = ("created_at", "reporter", "reason", "details")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status=ReportStatus.OPEN).select_related("reporter")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


def _decide(moderation: str):
    def perform(modeladmin, request, video, reason):
        from activity.services import video_report_decide

        video_report_decide(video=video, moderation=moderation, actor=request.user, reason=reason)

    return perform


def _dismiss(modeladmin, request, video, reason):
    from activity.services import reports_close_for_target

    reports_close_for_target(video=video, resolve=False, actor=request.user, reason=reason)


def reasons_summary(reports: list[Report]) -> str:
    """ "Spam ×3, Hate speech" from a target's open reports."""
    counts: dict[str, int] = {}
    for report in reports:
        counts[report.reason] = counts.get(report.reason, 0) + 1
    labels = dict(ReportReason.choices)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{labels.get(reason, reason)} ×{count}" if count > 1 else labels.get(reason, reason)
                     for reason, count in ordered)  # fmt: skip


@admin.register(ReportedVideo)
class ReportedVideoAdmin(VideoMediaMixin, admin.ModelAdmin):
    """Videos with open reports: automatically hidden ones first, then most reported, newest."""

    list_display = (
        "poster", "summary", "owner", "open_reports", "reasons", "last_reported", "moderation_state", "player_link",
    )  # fmt: skip
    list_display_links = ("summary",)
    list_filter = ("moderation", "moderation_final", "status")
    search_fields = ("caption", "owner__username")
    list_select_related = ("owner",)
    list_per_page = 100
    fields = (
        "poster_large", "player", "caption", "owner", "status", "moderation", "moderation_final",
        "open_reports", "reasons", "last_reported", "published_at", "created_at",
    )  # fmt: skip
    readonly_fields = fields
    inlines = (OpenReportInline,)
    actions = ("hide", "remove", "keep_visible", "dismiss_reports")

    hide = reason_action(
        name="hide",
        description="Hide selected videos and resolve their reports",
        permissions=("moderate",),
        perform=_decide(Moderation.HIDDEN),
        done="{count} video(s) hidden; their reports are resolved.",
    )
    remove = reason_action(
        name="remove",
        description="Remove selected videos and resolve their reports",
        permissions=("moderate",),
        perform=_decide(Moderation.REMOVED),
        done="{count} video(s) removed; their reports are resolved.",
    )
    keep_visible = reason_action(
        name="keep_visible",
        description="Keep or make selected videos visible and dismiss their reports",
        permissions=("moderate",),
        perform=_decide(Moderation.VISIBLE),
        done="{count} video(s) visible; their reports are dismissed.",
    )
    dismiss_reports = reason_action(
        name="dismiss_reports",
        description="Dismiss the reports of selected videos (video unchanged)",
        permissions=("moderate",),
        perform=_dismiss,
        done="Reports of {count} video(s) dismissed.",
    )

    def get_queryset(self, request):
        open_q = Q(reports__status=ReportStatus.OPEN)
        return (
            # Not super(): it orders before the annotations the ordering needs exist.
            self.model._default_manager.filter(Exists(_open_reports(video=OuterRef("pk"))))
            .annotate(
                open_reports=Count("reports", filter=open_q),
                last_reported=Max("reports__created_at", filter=open_q),
                pending_review=Case(
                    When(moderation=Moderation.HIDDEN, moderation_final=False, then=Value(1)),
                    default=Value(0),
                    output_field=IntegerField(),
                ),
            )
            .prefetch_related(
                Prefetch(
                    "reports",
                    queryset=_open_reports().only("id", "video_id", "reason", "created_at"),
                    to_attr="open_report_list",
                )
            )
            .order_by(*self.get_ordering(request))
        )

    def get_ordering(self, request):
        return ("-pending_review", "-open_reports", "-last_reported")

    def has_moderate_permission(self, request) -> bool:
        return request.user.has_perm(MODERATE_PERMISSION) and request.user.has_perm("activity.change_report")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="video")
    def summary(self, video: Video) -> str:
        caption = video.caption if len(video.caption) <= 60 else f"{video.caption[:59]}…"
        return caption or str(video.id)[:8]

    @admin.display(description="open reports", ordering="open_reports")
    def open_reports(self, video: Video) -> int:
        return video.open_reports

    @admin.display(description="last reported", ordering="last_reported")
    def last_reported(self, video: Video):
        return video.last_reported

    @admin.display(description="reasons")
    def reasons(self, video: Video) -> str:
        return reasons_summary(getattr(video, "open_report_list", []))

    @admin.display(description="state", ordering="moderation")
    def moderation_state(self, video: Video) -> str:
        if video.moderation == Moderation.HIDDEN and not video.moderation_final:
            return format_html('<strong style="color:#ba2121">{}</strong>', "hidden automatically, pending review")
        label = video.get_moderation_display()
        return f"{label} (moderator decision)" if video.moderation_final else label
