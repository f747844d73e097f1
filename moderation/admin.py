"""Moderation in the admin: report queues, reports, the audit log, and every moderator action.

Every action asks for a reason and calls ``moderation.services`` (the action tables
of ``moderation.admin_actions``), so feeds, cached cards, quarantined media, open
reports and the audit log follow. The plain model admins of lower apps (videos,
comments, users) are registered again here as subclasses that add the moderation
actions, filters and columns: lower apps never import this one. The report queues
themselves live in ``moderation.admin_queues`` and are registered here.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, Exists, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from accounts.admin import UserAdmin
from accounts.models import User
from activity.admin import CommentAdmin
from activity.models import Comment
from moderation.admin_actions import (
    COMMENT_ACTIONS,
    REPORT_ACTIONS,
    USER_ACTIONS,
    VIDEO_ACTIONS,
    ModerateActionsMixin,
)
from moderation.admin_queues import ReportedCommentAdmin, ReportedVideoAdmin, open_reports
from moderation.models import AuditEntry, Report, ReportedComment, ReportedVideo
from tiktok.admin import ReadOnlyAdmin
from videos.admin import VideoAdmin
from videos.models import Video


def _after(fields: tuple, anchor: str, *extra: str) -> tuple:
    """``fields`` with ``extra`` inserted after ``anchor`` (columns added to a lower app's admin)."""
    at = fields.index(anchor) + 1
    return (*fields[:at], *extra, *fields[at:])


class OpenReportsFilter(admin.SimpleListFilter):
    title = "reported"
    parameter_name = "reported"
    target = ""  # the Report field pointing at the listed model

    def lookups(self, request, model_admin):
        return (("yes", "Has open reports"), ("no", "No open reports"))

    def queryset(self, request, queryset):
        has_reports = Exists(open_reports(**{self.target: OuterRef("pk")}))
        if self.value() == "yes":
            return queryset.filter(has_reports)
        if self.value() == "no":
            return queryset.exclude(has_reports)
        return queryset


class VideoOpenReportsFilter(OpenReportsFilter):
    target = "video"


class CommentOpenReportsFilter(OpenReportsFilter):
    target = "comment"


# --- Videos, comments and users: the lower apps' admins with moderation added ---------


admin.site.unregister(Video)


@admin.register(Video)
class VideoModerationAdmin(ModerateActionsMixin, VideoAdmin):
    list_display = _after(VideoAdmin.list_display, "moderation_final", "open_reports")
    list_filter = _after(VideoAdmin.list_filter, "moderation_final", VideoOpenReportsFilter)
    fields = _after(VideoAdmin.fields, "moderation_final", "open_reports")
    readonly_fields = fields
    moderator_actions = VIDEO_ACTIONS

    def get_queryset(self, request):
        counted = (
            open_reports(video=OuterRef("pk")).order_by().values("video").annotate(count=Count("id")).values("count")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(open_reports=Coalesce(Subquery(counted, output_field=IntegerField()), 0))
        )

    @admin.display(description="open reports", ordering="open_reports")
    def open_reports(self, video: Video) -> int:
        return video.open_reports


admin.site.unregister(Comment)


@admin.register(Comment)
class CommentModerationAdmin(ModerateActionsMixin, CommentAdmin):
    list_filter = _after(CommentAdmin.list_filter, "state", CommentOpenReportsFilter)
    moderator_actions = COMMENT_ACTIONS


admin.site.unregister(User)


@admin.register(User)
class UserModerationAdmin(ModerateActionsMixin, UserAdmin):
    moderator_actions = USER_ACTIONS


# --- The report queues (moderation.admin_queues) ----------------------------------------

admin.site.register(ReportedVideo, ReportedVideoAdmin)
admin.site.register(ReportedComment, ReportedCommentAdmin)


# --- Reports and the audit log ---------------------------------------------------------


class ReportTargetFilter(admin.SimpleListFilter):
    title = "target"
    parameter_name = "target"

    def lookups(self, request, model_admin):
        return (("video", "Video"), ("comment", "Comment"))

    def queryset(self, request, queryset):
        if self.value() in ("video", "comment"):
            return queryset.filter(**{f"{self.value()}__isnull": False})
        return queryset


@admin.register(Report)
class ReportAdmin(ModerateActionsMixin, ReadOnlyAdmin):
    list_display = (
        "id", "reason", "status", "reporter", "video", "comment", "created_at", "resolved_by", "resolved_at",
    )  # fmt: skip
    list_filter = ("status", "reason", ReportTargetFilter, "created_at")
    search_fields = ("reporter__username", "details", "video__caption", "comment__text")
    list_select_related = ("reporter", "video", "comment", "resolved_by")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    list_per_page = 100
    fields = ("reporter", "video", "comment", "reason", "details", "status", "created_at", "resolved_at", "resolved_by")
    readonly_fields = fields
    moderator_actions = REPORT_ACTIONS


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "who", "action", "target_type", "target", "reason")
    list_filter = ("action", "target_type", ("actor", admin.RelatedOnlyFieldListFilter), "created_at")
    search_fields = ("actor_username", "target_id", "target_label", "reason")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    list_per_page = 100
    fields = ("created_at", "actor", "actor_username", "action", "target_type", "target_id", "target_label",
              "reason", "changes")  # fmt: skip
    readonly_fields = fields

    @admin.display(description="who", ordering="actor_username")
    def who(self, entry: AuditEntry) -> str:
        return entry.actor_username or "system (automatic)"

    @admin.display(description="target")
    def target(self, entry: AuditEntry) -> str:
        app_label, _, model = entry.target_type.partition(".")
        try:
            url = reverse(f"admin:{app_label}_{model}_change", args=[entry.target_id])
        except NoReverseMatch:
            return entry.target_label or entry.target_id
        return format_html('<a href="{}">{}</a>', url, entry.target_label or entry.target_id)
