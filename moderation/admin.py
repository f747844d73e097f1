"""Moderation in the admin: report queues, reports, the audit log, and every moderator action.

Every action asks for a reason and calls ``moderation.services``, so feeds, cached
cards, quarantined media, open reports and the audit log follow. The plain model admins
of lower apps (videos, comments, users) are registered again here as subclasses that add
the moderation actions, filters and columns: lower apps never import this one.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Case, Count, Exists, IntegerField, Max, OuterRef, Prefetch, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from accounts.admin import UserAdmin
from accounts.models import User
from activity.admin import CommentAdmin, shorten
from activity.models import Comment, CommentState
from moderation import services
from moderation.admin_actions import ModerateActionsMixin, perform_with, reason_action
from moderation.models import AuditEntry, Report, ReportedComment, ReportedVideo, ReportReason, ReportStatus
from tiktok.admin import ReadOnlyAdmin, ReadOnlyMixin
from videos.admin import VideoAdmin, VideoMediaMixin
from videos.models import Moderation, Video

MODERATE_VIDEO = "videos.moderate_video"
CHANGE_COMMENT = "activity.change_comment"
CHANGE_REPORT = "moderation.change_report"
SUSPEND_USER = "accounts.suspend_user"


def open_reports(**target):
    return Report.objects.filter(status=ReportStatus.OPEN, **target)


def reasons_summary(reports: list[Report]) -> str:
    """ "Spam ×3, Hate speech" from a target's open reports."""
    counts: dict[str, int] = {}
    for report in reports:
        counts[report.reason] = counts.get(report.reason, 0) + 1
    labels = dict(ReportReason.choices)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{labels.get(reason, reason)} ×{count}" if count > 1 else labels.get(reason, reason)
                     for reason, count in ordered)  # fmt: skip


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


class OpenReportInline(ReadOnlyMixin, admin.TabularInline):
    model = Report
    fk_name = "video"
    verbose_name = "open report"
    verbose_name_plural = "open reports"
    fields = ("created_at", "reporter", "reason", "details")
    readonly_fields = fields
    extra = 0
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status=ReportStatus.OPEN).select_related("reporter")


class OpenCommentReportInline(OpenReportInline):
    fk_name = "comment"


# --- Videos, comments and users: the lower apps' admins with moderation added ---------


admin.site.unregister(Video)


@admin.register(Video)
class VideoModerationAdmin(ModerateActionsMixin, VideoAdmin):
    list_display = _after(VideoAdmin.list_display, "moderation_final", "open_reports")
    list_filter = _after(VideoAdmin.list_filter, "moderation_final", VideoOpenReportsFilter)
    fields = _after(VideoAdmin.fields, "moderation_final", "open_reports")
    readonly_fields = fields
    moderate_permissions = (MODERATE_VIDEO,)
    actions = ("hide", "remove", "restore")

    hide = reason_action(
        name="hide",
        description="Hide selected videos (pending review)",
        perform=perform_with(services.video_moderate, "video", moderation=Moderation.HIDDEN),
        done="{count} video(s) hidden.",
    )
    remove = reason_action(
        name="remove",
        description="Remove selected videos",
        perform=perform_with(services.video_moderate, "video", moderation=Moderation.REMOVED),
        done="{count} video(s) removed.",
    )
    restore = reason_action(
        name="restore",
        description="Restore selected videos (make visible)",
        perform=perform_with(services.video_moderate, "video", moderation=Moderation.VISIBLE),
        done="{count} video(s) restored.",
    )

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
    moderate_permissions = (CHANGE_COMMENT,)
    actions = ("remove_comments", "restore_comments")

    remove_comments = reason_action(
        name="remove_comments",
        description="Remove selected comments",
        perform=perform_with(services.comment_set_state, "comment", state=CommentState.REMOVED),
        done="{count} comment(s) removed.",
    )
    restore_comments = reason_action(
        name="restore_comments",
        description="Restore selected comments",
        perform=perform_with(services.comment_set_state, "comment", state=CommentState.VISIBLE),
        done="{count} comment(s) restored.",
    )


admin.site.unregister(User)


@admin.register(User)
class UserModerationAdmin(ModerateActionsMixin, UserAdmin):
    moderate_permissions = (SUSPEND_USER,)
    actions = ("suspend", "reinstate")

    suspend = reason_action(
        name="suspend",
        description="Suspend selected users",
        perform=perform_with(services.user_suspend, "user"),
        done="{count} user(s) suspended; their videos leave feeds.",
    )
    reinstate = reason_action(
        name="reinstate",
        description="Reinstate selected users",
        perform=perform_with(services.user_reinstate, "user"),
        done="{count} user(s) reinstated; their videos return to feeds.",
    )


# --- The report queues -----------------------------------------------------------------


class ReportQueueAdmin(ModerateActionsMixin, ReadOnlyAdmin):
    """Targets (``report_target``) with open reports: how many, since when, and why."""

    report_target = ""
    queue_ordering: tuple[str, ...] = ("-open_reports", "-last_reported")
    list_per_page = 100

    def queue_annotations(self) -> dict:
        return {}

    def get_queryset(self, request):
        open_q = Q(reports__status=ReportStatus.OPEN)
        reasons = open_reports().only("id", f"{self.report_target}_id", "reason", "created_at")
        return (
            # Not super(): it orders before the annotations the ordering needs exist.
            self.model._default_manager.filter(Exists(open_reports(**{self.report_target: OuterRef("pk")})))
            .annotate(
                open_reports=Count("reports", filter=open_q),
                last_reported=Max("reports__created_at", filter=open_q),
                **self.queue_annotations(),
            )
            .prefetch_related(Prefetch("reports", queryset=reasons, to_attr="open_report_list"))
            .order_by(*self.get_ordering(request))
        )

    def get_ordering(self, request):
        return self.queue_ordering

    @admin.display(description="open reports", ordering="open_reports")
    def open_reports(self, target) -> int:
        return target.open_reports

    @admin.display(description="last reported", ordering="last_reported")
    def last_reported(self, target):
        return target.last_reported

    @admin.display(description="reasons")
    def reasons(self, target) -> str:
        return reasons_summary(getattr(target, "open_report_list", []))


@admin.register(ReportedVideo)
class ReportedVideoAdmin(VideoMediaMixin, ReportQueueAdmin):
    """Videos with open reports: automatically hidden ones first, then most reported, newest."""

    report_target = "video"
    queue_ordering = ("-pending_review", "-open_reports", "-last_reported")
    list_display = (
        "poster", "summary", "owner", "open_reports", "reasons", "last_reported", "moderation_state", "player_link",
    )  # fmt: skip
    list_display_links = ("summary",)
    list_filter = ("moderation", "moderation_final", "status")
    search_fields = ("caption", "owner__username")
    list_select_related = ("owner",)
    fields = (
        "poster_large", "player", "caption", "owner", "status", "moderation", "moderation_final",
        "open_reports", "reasons", "last_reported", "published_at", "created_at",
    )  # fmt: skip
    readonly_fields = fields
    inlines = (OpenReportInline,)
    moderate_permissions = (MODERATE_VIDEO, CHANGE_REPORT)
    actions = ("hide", "remove", "keep_visible", "dismiss_reports")

    hide = reason_action(
        name="hide",
        description="Hide selected videos and resolve their reports",
        perform=perform_with(services.video_report_decide, "video", moderation=Moderation.HIDDEN),
        done="{count} video(s) hidden; their reports are resolved.",
    )
    remove = reason_action(
        name="remove",
        description="Remove selected videos and resolve their reports",
        perform=perform_with(services.video_report_decide, "video", moderation=Moderation.REMOVED),
        done="{count} video(s) removed; their reports are resolved.",
    )
    keep_visible = reason_action(
        name="keep_visible",
        description="Keep or make selected videos visible and dismiss their reports",
        perform=perform_with(services.video_report_decide, "video", moderation=Moderation.VISIBLE),
        done="{count} video(s) visible; their reports are dismissed.",
    )
    dismiss_reports = reason_action(
        name="dismiss_reports",
        description="Dismiss the reports of selected videos (video unchanged)",
        perform=perform_with(services.reports_close_for_target, "video", resolve=False),
        done="Reports of {count} video(s) dismissed.",
    )

    def queue_annotations(self) -> dict:
        return {
            "pending_review": Case(
                When(moderation=Moderation.HIDDEN, moderation_final=False, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        }

    @admin.display(description="video")
    def summary(self, video: Video) -> str:
        return shorten(video.caption, 60) or str(video.id)[:8]

    @admin.display(description="state", ordering="moderation")
    def moderation_state(self, video: Video) -> str:
        if video.moderation == Moderation.HIDDEN and not video.moderation_final:
            return format_html('<strong style="color:#ba2121">{}</strong>', "hidden automatically, pending review")
        label = video.get_moderation_display()
        return f"{label} (moderator decision)" if video.moderation_final else label


@admin.register(ReportedComment)
class ReportedCommentAdmin(ReportQueueAdmin):
    """Comments with open reports, most reported first, then most recently reported."""

    report_target = "comment"
    list_display = ("short_text", "author", "video", "open_reports", "reasons", "last_reported", "state")
    list_filter = ("state",)
    search_fields = ("text", "author__username")
    list_select_related = ("author", "video")
    fields = ("author", "video", "text", "state", "open_reports", "reasons", "last_reported", "created_at")
    readonly_fields = fields
    inlines = (OpenCommentReportInline,)
    moderate_permissions = (CHANGE_COMMENT, CHANGE_REPORT)
    actions = ("remove_comments", "keep_comments", "dismiss_reports")

    remove_comments = reason_action(
        name="remove_comments",
        description="Remove selected comments and resolve their reports",
        perform=perform_with(services.comment_report_decide, "comment", state=CommentState.REMOVED),
        done="{count} comment(s) removed; their reports are resolved.",
    )
    keep_comments = reason_action(
        name="keep_comments",
        description="Keep or restore selected comments and dismiss their reports",
        perform=perform_with(services.comment_report_decide, "comment", state=CommentState.VISIBLE),
        done="{count} comment(s) visible; their reports are dismissed.",
    )
    dismiss_reports = reason_action(
        name="dismiss_reports",
        description="Dismiss the reports of selected comments (comment unchanged)",
        perform=perform_with(services.reports_close_for_target, "comment", resolve=False),
        done="Reports of {count} comment(s) dismissed.",
    )

    @admin.display(description="comment")
    def short_text(self, comment: Comment) -> str:
        return shorten(comment.text)


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
    moderate_permissions = (CHANGE_REPORT,)
    actions = ("resolve_reports", "dismiss_reports")

    resolve_reports = reason_action(
        name="resolve_reports",
        description="Resolve selected reports (target unchanged)",
        perform=perform_with(services.report_resolve, "report"),
        done="{count} report(s) resolved.",
    )
    dismiss_reports = reason_action(
        name="dismiss_reports",
        description="Dismiss selected reports (target unchanged)",
        perform=perform_with(services.report_dismiss, "report"),
        done="{count} report(s) dismissed.",
    )


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
