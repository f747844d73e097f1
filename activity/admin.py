"""Admin for follows, likes, favorites, views, comments, reports and the comment report queue.

Moderation actions ask for a reason and call ``activity.services`` (which write the
audit log). Relation rows are read-only here: counters and feeds follow only the
services' writes.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q

from activity.models import Comment, CommentState, Favorite, Follow, Like, Report, ReportStatus, View
from tiktok.admin import ReadOnlyAdmin
from tiktok.admin_actions import reason_action
from tiktok.models import ReportedComment
from videos.admin import OpenReportInline, reasons_summary


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


def _comment_state(state: str):
    def perform(modeladmin, request, comment, reason):
        from activity.services import comment_set_state

        comment_set_state(comment=comment, state=state, actor=request.user, reason=reason)

    return perform


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


class CommentReportedFilter(admin.SimpleListFilter):
    title = "reported"
    parameter_name = "reported"

    def lookups(self, request, model_admin):
        return (("yes", "Has open reports"), ("no", "No open reports"))

    def queryset(self, request, queryset):
        has_reports = Exists(Report.objects.filter(comment=OuterRef("pk"), status=ReportStatus.OPEN))
        if self.value() == "yes":
            return queryset.filter(has_reports)
        if self.value() == "no":
            return queryset.exclude(has_reports)
        return queryset


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ("id", "author", "video", "short_text", "state", "created_at")
    list_filter = ("state", CommentReportedFilter, "created_at")
    search_fields = ("text", "author__username")
    list_select_related = ("author", "video")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    list_per_page = 100
    fields = ("author", "video", "text", "state", "created_at")
    readonly_fields = fields
    actions = ("remove_comments", "restore_comments")

    remove_comments = reason_action(
        name="remove_comments",
        description="Remove selected comments",
        permissions=("change",),
        perform=_comment_state(CommentState.REMOVED),
        done="{count} comment(s) removed.",
    )
    restore_comments = reason_action(
        name="restore_comments",
        description="Restore selected comments",
        permissions=("change",),
        perform=_comment_state(CommentState.VISIBLE),
        done="{count} comment(s) restored.",
    )

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # removal is a state (reversible, counted, audited)

    @admin.display(description="text")
    def short_text(self, comment: Comment) -> str:
        return _short(comment.text)


def _close_report(resolve: bool):
    def perform(modeladmin, request, report, reason):
        from activity.services import report_dismiss, report_resolve

        (report_resolve if resolve else report_dismiss)(report=report, actor=request.user, reason=reason)

    return perform


class TargetFilter(admin.SimpleListFilter):
    title = "target"
    parameter_name = "target"

    def lookups(self, request, model_admin):
        return (("video", "Video"), ("comment", "Comment"))

    def queryset(self, request, queryset):
        if self.value() == "video":
            return queryset.filter(video__isnull=False)
        if self.value() == "comment":
            return queryset.filter(comment__isnull=False)
        return queryset


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "reason",
        "status",
        "reporter",
        "video",
        "comment",
        "created_at",
        "resolved_by",
        "resolved_at",
    )
    list_filter = ("status", "reason", TargetFilter, "created_at")
    search_fields = ("reporter__username", "details", "video__caption", "comment__text")
    list_select_related = ("reporter", "video", "comment", "resolved_by")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    list_per_page = 100
    fields = ("reporter", "video", "comment", "reason", "details", "status", "created_at", "resolved_at", "resolved_by")
    readonly_fields = fields
    actions = ("resolve_reports", "dismiss_reports")

    resolve_reports = reason_action(
        name="resolve_reports",
        description="Resolve selected reports (target unchanged)",
        permissions=("change",),
        perform=_close_report(resolve=True),
        done="{count} report(s) resolved.",
    )
    dismiss_reports = reason_action(
        name="dismiss_reports",
        description="Dismiss selected reports (target unchanged)",
        permissions=("change",),
        perform=_close_report(resolve=False),
        done="{count} report(s) dismissed.",
    )

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class OpenCommentReportInline(OpenReportInline):
    fk_name = "comment"


def _decide_comment(state: str):
    def perform(modeladmin, request, comment, reason):
        from activity.services import comment_report_decide

        comment_report_decide(comment=comment, state=state, actor=request.user, reason=reason)

    return perform


def _dismiss_comment_reports(modeladmin, request, comment, reason):
    from activity.services import reports_close_for_target

    reports_close_for_target(comment=comment, resolve=False, actor=request.user, reason=reason)


@admin.register(ReportedComment)
class ReportedCommentAdmin(admin.ModelAdmin):
    """Comments with open reports, most reported first, then most recently reported."""

    list_display = ("short_text", "author", "video", "open_reports", "reasons", "last_reported", "state")
    list_filter = ("state",)
    search_fields = ("text", "author__username")
    list_select_related = ("author", "video")
    list_per_page = 100
    fields = ("author", "video", "text", "state", "open_reports", "reasons", "last_reported", "created_at")
    readonly_fields = fields
    inlines = (OpenCommentReportInline,)
    actions = ("remove_comments", "keep_comments", "dismiss_reports")

    remove_comments = reason_action(
        name="remove_comments",
        description="Remove selected comments and resolve their reports",
        permissions=("moderate",),
        perform=_decide_comment(CommentState.REMOVED),
        done="{count} comment(s) removed; their reports are resolved.",
    )
    keep_comments = reason_action(
        name="keep_comments",
        description="Keep or restore selected comments and dismiss their reports",
        permissions=("moderate",),
        perform=_decide_comment(CommentState.VISIBLE),
        done="{count} comment(s) visible; their reports are dismissed.",
    )
    dismiss_reports = reason_action(
        name="dismiss_reports",
        description="Dismiss the reports of selected comments (comment unchanged)",
        permissions=("moderate",),
        perform=_dismiss_comment_reports,
        done="Reports of {count} comment(s) dismissed.",
    )

    def get_queryset(self, request):
        open_q = Q(reports__status=ReportStatus.OPEN)
        return (
            # Not super(): it orders before the annotations the ordering needs exist.
            self.model._default_manager.filter(
                Exists(Report.objects.filter(comment=OuterRef("pk"), status=ReportStatus.OPEN))
            )
            .annotate(
                open_reports=Count("reports", filter=open_q), last_reported=Max("reports__created_at", filter=open_q)
            )
            .prefetch_related(
                Prefetch(
                    "reports",
                    queryset=Report.objects.filter(status=ReportStatus.OPEN).only("id", "comment_id", "reason"),
                    to_attr="open_report_list",
                )
            )
            .order_by(*self.get_ordering(request))
        )

    def get_ordering(self, request):
        return ("-open_reports", "-last_reported")

    def has_moderate_permission(self, request) -> bool:
        return request.user.has_perm("activity.change_comment") and request.user.has_perm("activity.change_report")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="comment")
    def short_text(self, comment: Comment) -> str:
        return _short(comment.text)

    @admin.display(description="open reports", ordering="open_reports")
    def open_reports(self, comment: Comment) -> int:
        return comment.open_reports

    @admin.display(description="last reported", ordering="last_reported")
    def last_reported(self, comment: Comment):
        return comment.last_reported

    @admin.display(description="reasons")
    def reasons(self, comment: Comment) -> str:
        return reasons_summary(getattr(comment, "open_report_list", []))
