"""The report queues in the admin: each reported video or comment with what a moderator
needs to decide, most urgent first, and a decision form that opens the next item.

Urgency: a video hidden automatically and waiting for review comes first, then the
summed weight of the open reports (``Report.weight``: the reporters' age and standing),
then the oldest open report. A
decision is one of the queue's reason actions (``moderation.admin_actions``) run on one
object: its service writes the change and the audit entry, and the moderator lands on
the next most urgent item.

Each video row and page plays the video inline (``moderation.admin_media``), and each
comment shows with its video's poster and the comments around it.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince

from activity.admin import shorten
from activity.models import Comment, CommentState
from moderation import admin_media
from moderation.admin_actions import COMMENT_QUEUE_ACTIONS, VIDEO_QUEUE_ACTIONS, ModerateActionsMixin, ReasonForm
from moderation.models import Report, ReportReason, ReportStatus
from tiktok.admin import ReadOnlyAdmin, ReadOnlyMixin
from tiktok.exceptions import ApplicationError
from videos.admin import VideoMediaMixin, media_url
from videos.models import Moderation, Video

# How many visible comments either side of a reported one its page shows.
COMMENT_CONTEXT_SIZE = 3


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


def _count(queryset, group_by: str) -> Coalesce:
    counted = queryset.order_by().values(group_by).annotate(count=Count("pk")).values("count")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def standing_annotations(user_field: str, *, this_video: str = "", this_comment: str = "") -> dict:
    """Prior removals of the user in ``user_field``: videos removed, comments removed (this one excluded)."""
    videos = Video.objects.filter(owner_id=OuterRef(user_field), moderation=Moderation.REMOVED)
    comments = Comment.objects.filter(author_id=OuterRef(user_field), state=CommentState.REMOVED)
    if this_video:
        videos = videos.exclude(pk=OuterRef(this_video))
    if this_comment:
        comments = comments.exclude(pk=OuterRef(this_comment))
    return {"removed_videos": _count(videos, "owner_id"), "removed_comments": _count(comments, "author_id")}


def standing_html(user, target) -> str:
    """Who posted it and their standing: account age, prior removals, suspension."""
    removals = target.removed_videos + target.removed_comments
    if removals:
        record = format_html(
            '<span class="standing-bad">{} prior removal{} ({} video{}, {} comment{})</span>',
            removals, "" if removals == 1 else "s", target.removed_videos, "" if target.removed_videos == 1 else "s",
            target.removed_comments, "" if target.removed_comments == 1 else "s",
        )  # fmt: skip
    else:
        record = format_html('<span class="standing-good">{}</span>', "no prior removals")
    suspended = format_html(' <span class="standing-bad">{}</span>', "suspended") if user.suspended_at else ""
    return format_html(
        '<div class="creator-standing"><strong>{}</strong><br><span>account {} old</span><br>{}{}</div>',
        user.username, timesince(user.date_joined, depth=1), record, suspended,
    )  # fmt: skip


class DecisionForm(ReasonForm):
    decision = forms.ChoiceField()

    def __init__(self, *args, decisions: tuple[tuple[str, str], ...], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decision"].choices = decisions


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


class ReportQueueAdmin(ModerateActionsMixin, ReadOnlyAdmin):
    """Targets (``report_target``) with open reports, most urgent first, decided one by one or in bulk."""

    report_target = ""
    urgency: tuple[str, ...] = ("-report_weight", "first_reported", "pk")
    # (reason action name, button label) offered on an item's page and as row shortcuts.
    decisions: tuple[tuple[str, str], ...] = ()
    list_per_page = 100
    change_form_template = "admin/moderation/queue_change_form.html"

    class Media:
        css = {"all": ("moderation/queue.css",)}
        js = ("moderation/vendor/hls.min.js", "moderation/queue.js")

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
                report_weight=Sum("reports__weight", filter=open_q),
                first_reported=Min("reports__created_at", filter=open_q),
                last_reported=Max("reports__created_at", filter=open_q),
                **self.queue_annotations(),
            )
            .prefetch_related(Prefetch("reports", queryset=reasons, to_attr="open_report_list"))
            .order_by(*self.get_ordering(request))
        )

    def get_ordering(self, request):
        return self.urgency

    def get_urls(self):
        info = (self.opts.app_label, self.opts.model_name)
        decide = self.admin_site.admin_view(self.decide_view)
        return [path("<path:object_id>/decide/", decide, name="{}_{}_decide".format(*info)), *super().get_urls()]

    def item_url(self, pk) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[pk])

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        if self.has_moderate_permission(request):
            extra_context["decision_form"] = DecisionForm(decisions=self.decisions)
            extra_context["decide_url"] = reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_decide", args=[object_id]
            )
            extra_context["preselected"] = request.GET.get("decision", "")
        return super().change_view(request, object_id, form_url, extra_context)

    def decide_view(self, request, object_id):
        """One decision with a reason on one item, then the next most urgent item opens."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_moderate_permission(request):
            raise PermissionDenied
        target = self.get_object(request, object_id)
        if target is None:
            self.message_user(request, "That item has no open reports any more (already decided).", messages.WARNING)
            return self.next_in_queue(request, after=object_id)
        form = DecisionForm(request.POST, decisions=self.decisions)
        if not form.is_valid():
            problems = "; ".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items())
            self.message_user(request, f"Nothing was decided. {problems}", messages.ERROR)
            return HttpResponseRedirect(self.item_url(target.pk))
        action = getattr(self, form.cleaned_data["decision"])
        try:
            action.perform(self, request, target, form.cleaned_data["reason"])
        except ApplicationError as exc:
            self.message_user(request, f"{target}: {exc.message}", messages.ERROR)
            return HttpResponseRedirect(self.item_url(target.pk))
        self.message_user(request, action.done.format(count=1), messages.SUCCESS)
        return self.next_in_queue(request, after=target.pk)

    def next_in_queue(self, request, *, after) -> HttpResponseRedirect:
        """The most urgent item other than ``after``, or the (empty) queue."""
        queue = self.get_queryset(request).prefetch_related(None).exclude(pk=after)
        following = queue.values_list("pk", flat=True).first()
        if following is None:
            self.message_user(request, "The queue is empty.", messages.INFO)
            return HttpResponseRedirect(reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist"))
        return HttpResponseRedirect(self.item_url(following))

    @admin.display(description="open reports", ordering="open_reports")
    def open_reports(self, target) -> int:
        return target.open_reports

    @admin.display(description="reports")
    def reports(self, target) -> str:
        return format_html(
            '<strong class="report-count">{}</strong> open <span class="report-weight">(weight {})</span><br>'
            '<span class="report-reasons">{}</span>',
            target.open_reports, target.report_weight.normalize(), reasons_summary(target.open_report_list),
        )  # fmt: skip

    @admin.display(description="reasons")
    def reasons(self, target) -> str:
        return reasons_summary(getattr(target, "open_report_list", []))

    @admin.display(description="waiting", ordering="first_reported")
    def waiting(self, target) -> str:
        return timesince(target.first_reported, depth=1)

    @admin.display(description="last reported", ordering="last_reported")
    def last_reported(self, target):
        return target.last_reported

    @admin.display(description="decide")
    def row_actions(self, target) -> str:
        url = self.item_url(target.pk)
        return format_html_join(
            "", '<a class="button queue-decide" href="{}?decision={}">{}…</a>',
            ((url, name, label) for name, label in self.decisions),
        )  # fmt: skip


class ReportedVideoAdmin(VideoMediaMixin, ReportQueueAdmin):
    """Videos with open reports: automatically hidden ones first, then most weighty reports, longest waiting."""

    report_target = "video"
    urgency = ("-pending_review", "-report_weight", "first_reported", "pk")
    decisions = (("hide", "Hide"), ("remove", "Remove"), ("keep_visible", "Keep visible"),
                 ("dismiss_reports", "Dismiss reports"))  # fmt: skip
    list_display = (
        "poster_image", "row_player", "video_and_creator", "reports", "waiting", "moderation_state", "row_actions",
    )  # fmt: skip
    list_display_links = None  # the caption links to the item; the whole cell would be too much
    list_filter = ("moderation", "moderation_final", "status")
    search_fields = ("caption", "owner__username")
    list_select_related = ("owner",)
    fields = (
        "player", "caption", "creator", "status", "moderation_state", "moderation_final",
        "reports", "waiting", "published_at", "created_at",
    )  # fmt: skip
    readonly_fields = fields
    inlines = (OpenReportInline,)
    moderator_actions = VIDEO_QUEUE_ACTIONS

    def queue_annotations(self) -> dict:
        pending_review = When(moderation=Moderation.HIDDEN, moderation_final=False, then=Value(1))
        return {
            "pending_review": Case(pending_review, default=Value(0), output_field=IntegerField()),
            **standing_annotations("owner_id", this_video="pk"),
        }

    def get_urls(self):
        review = self.admin_site.admin_view(self.review_playlist_view)
        name = f"{self.opts.app_label}_{self.opts.model_name}_review_playlist"
        return [path("<uuid:object_id>/review/<path:name>", review, name=name), *super().get_urls()]

    def review_playlist_view(self, request, object_id, name):
        """A quarantined video's playlist with each child URI signed (for this queue's viewers)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        return admin_media.review_playlist(video_id=object_id, name=name)

    @admin.display(description="watch")
    def row_player(self, video: Video) -> str:
        return admin_media.player_html(video, "queue-player")

    @admin.display(description="player")
    def player(self, video: Video) -> str:
        return format_html("{}<br>{}", admin_media.player_html(video, "review-player"), self.player_link(video))

    @admin.display(description="video")
    def summary(self, video: Video) -> str:
        return shorten(video.caption, 60) or str(video.id)[:8]

    @admin.display(description="creator")
    def creator(self, video: Video) -> str:
        return standing_html(video.owner, video)

    @admin.display(description="video and creator")
    def video_and_creator(self, video: Video) -> str:
        return format_html('<a href="{}">{}</a>{}', self.item_url(video.pk), self.summary(video), self.creator(video))

    @admin.display(description="state", ordering="moderation")
    def moderation_state(self, video: Video) -> str:
        if video.moderation == Moderation.HIDDEN and not video.moderation_final:
            return format_html('<strong class="pending-review">{}</strong>', "hidden automatically, pending review")
        label = video.get_moderation_display()
        return f"{label} (moderator decision)" if video.moderation_final else label


class ReportedCommentAdmin(ReportQueueAdmin):
    """Comments with open reports, most weighty reports first, then longest waiting; each in its context."""

    report_target = "comment"
    decisions = (("remove_comments", "Remove"), ("keep_comments", "Keep"), ("dismiss_reports", "Dismiss reports"))
    list_display = (
        "video_poster", "short_text", "around", "author_standing", "reports", "waiting", "state", "row_actions",
    )  # fmt: skip
    list_display_links = ("short_text",)
    list_filter = ("state",)
    search_fields = ("text", "author__username")
    list_select_related = ("author", "video")
    fields = ("in_context", "author_standing", "state", "reports", "waiting", "created_at")
    readonly_fields = fields
    inlines = (OpenCommentReportInline,)
    moderator_actions = COMMENT_QUEUE_ACTIONS

    def queue_annotations(self) -> dict:
        siblings = Comment.objects.filter(video_id=OuterRef("video_id"), state=CommentState.VISIBLE).exclude(
            pk=OuterRef("pk")
        )
        before = siblings.filter(created_at__lte=OuterRef("created_at")).order_by("-created_at", "-pk")
        after = siblings.filter(created_at__gt=OuterRef("created_at")).order_by("created_at", "pk")
        return {
            "text_before": Subquery(before.values("text")[:1]),
            "text_after": Subquery(after.values("text")[:1]),
            **standing_annotations("author_id", this_comment="pk"),
        }

    @admin.display(description="video")
    def video_poster(self, comment: Comment) -> str:
        return self._poster(comment.video, height=72)

    @staticmethod
    def _poster(video: Video, *, height: int) -> str:
        url = media_url(video, video.poster.name)
        if not url:
            return "–"
        return format_html('<img src="{}" alt="poster" class="video-poster" style="height:{}px">', url, height)

    @admin.display(description="comment")
    def short_text(self, comment: Comment) -> str:
        return shorten(comment.text)

    @admin.display(description="around it")
    def around(self, comment: Comment) -> str:
        return format_html(
            '<div class="comment-around">{}<br>{}</div>',
            f"before: {shorten(comment.text_before, 60)}" if comment.text_before else "(first comment)",
            f"after: {shorten(comment.text_after, 60)}" if comment.text_after else "(latest comment)",
        )

    @admin.display(description="author")
    def author_standing(self, comment: Comment) -> str:
        return standing_html(comment.author, comment)

    @admin.display(description="comment in context")
    def in_context(self, comment: Comment) -> str:
        around = Comment.objects.filter(video_id=comment.video_id, state=CommentState.VISIBLE).select_related("author")
        around = around.exclude(pk=comment.pk)
        before = around.filter(created_at__lte=comment.created_at).order_by("-created_at", "-pk")
        after = around.filter(created_at__gt=comment.created_at).order_by("created_at", "pk")
        return render_to_string(
            "admin/moderation/comment_in_context.html",
            {
                "comment": comment,
                "video": comment.video,
                "poster": self._poster(comment.video, height=240),
                "before": list(before[:COMMENT_CONTEXT_SIZE])[::-1],
                "after": list(after[:COMMENT_CONTEXT_SIZE]),
            },
        )
