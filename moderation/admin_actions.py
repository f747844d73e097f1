"""The moderator actions of the admin, as tables: action -> service call, permission, message.

Every action is one kind: the first POST (from the changelist) shows a confirmation
page listing the selected objects with a required reason field; submitting it calls the
row's ``moderation.services`` function once per object, which writes the change and its
audit entry. A model admin lists its rows in ``moderator_actions``
(``ModerateActionsMixin`` turns them into admin actions).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse

from activity.models import CommentState
from moderation import services
from tiktok.exceptions import ApplicationError
from videos.models import Moderation

REASON_MAX_LENGTH = 300
CONFIRM_FIELD = "confirm_reason"

MODERATE_VIDEO = "videos.moderate_video"
CHANGE_COMMENT = "activity.change_comment"
CHANGE_REPORT = "moderation.change_report"
SUSPEND_USER = "accounts.suspend_user"


class ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60, "autofocus": True}),
        help_text="Recorded in the audit log with your name and the time.",
    )


@dataclass(frozen=True)
class ModeratorAction:
    """One row of the action tables: the service an admin action calls, who may, what it says."""

    name: str  # the attribute on the ModelAdmin (and the key in ``actions``)
    description: str
    service: Callable  # ``service(<target>=obj, actor=..., reason=..., **options)``
    target: str
    permissions: tuple[str, ...]
    done: str  # the message after success, formatted with ``count``
    options: Mapping = field(default_factory=dict)

    def perform(self, modeladmin, request, obj, reason: str) -> None:
        self.service(**{self.target: obj}, actor=request.user, reason=reason, **self.options)


def _row(name, description, service, target, permissions, done, **options) -> ModeratorAction:
    return ModeratorAction(name, description, service, target, permissions, done, options)


# Every moderator action of the admin, per model admin.
VIDEO_ACTIONS = (
    _row("hide", "Hide selected videos (pending review)", services.video_moderate, "video",
         (MODERATE_VIDEO,), "{count} video(s) hidden.", moderation=Moderation.HIDDEN),
    _row("remove", "Remove selected videos", services.video_moderate, "video",
         (MODERATE_VIDEO,), "{count} video(s) removed.", moderation=Moderation.REMOVED),
    _row("restore", "Restore selected videos (make visible)", services.video_moderate, "video",
         (MODERATE_VIDEO,), "{count} video(s) restored.", moderation=Moderation.VISIBLE),
)  # fmt: skip
COMMENT_ACTIONS = (
    _row("remove_comments", "Remove selected comments", services.comment_set_state, "comment",
         (CHANGE_COMMENT,), "{count} comment(s) removed.", state=CommentState.REMOVED),
    _row("restore_comments", "Restore selected comments", services.comment_set_state, "comment",
         (CHANGE_COMMENT,), "{count} comment(s) restored.", state=CommentState.VISIBLE),
)  # fmt: skip
USER_ACTIONS = (
    _row("suspend", "Suspend selected users", services.user_suspend, "user",
         (SUSPEND_USER,), "{count} user(s) suspended; their videos leave feeds."),
    _row("reinstate", "Reinstate selected users", services.user_reinstate, "user",
         (SUSPEND_USER,), "{count} user(s) reinstated; their videos return to feeds."),
)  # fmt: skip
REPORT_ACTIONS = (
    _row("resolve_reports", "Resolve selected reports (target unchanged)", services.report_resolve, "report",
         (CHANGE_REPORT,), "{count} report(s) resolved."),
    _row("dismiss_reports", "Dismiss selected reports (target unchanged)", services.report_dismiss, "report",
         (CHANGE_REPORT,), "{count} report(s) dismissed."),
)  # fmt: skip
VIDEO_QUEUE_ACTIONS = (
    _row("hide", "Hide selected videos and resolve their reports", services.video_report_decide, "video",
         (MODERATE_VIDEO, CHANGE_REPORT), "{count} video(s) hidden; their reports are resolved.",
         moderation=Moderation.HIDDEN),
    _row("remove", "Remove selected videos and resolve their reports", services.video_report_decide, "video",
         (MODERATE_VIDEO, CHANGE_REPORT), "{count} video(s) removed; their reports are resolved.",
         moderation=Moderation.REMOVED),
    _row("keep_visible", "Keep or make selected videos visible and dismiss their reports",
         services.video_report_decide, "video",
         (MODERATE_VIDEO, CHANGE_REPORT), "{count} video(s) visible; their reports are dismissed.",
         moderation=Moderation.VISIBLE),
    _row("dismiss_reports", "Dismiss the reports of selected videos (video unchanged)",
         services.reports_close_for_target, "video",
         (MODERATE_VIDEO, CHANGE_REPORT), "Reports of {count} video(s) dismissed.", resolve=False),
)  # fmt: skip
COMMENT_QUEUE_ACTIONS = (
    _row("remove_comments", "Remove selected comments and resolve their reports", services.comment_report_decide,
         "comment", (CHANGE_COMMENT, CHANGE_REPORT), "{count} comment(s) removed; their reports are resolved.",
         state=CommentState.REMOVED),
    _row("keep_comments", "Keep or restore selected comments and dismiss their reports",
         services.comment_report_decide, "comment",
         (CHANGE_COMMENT, CHANGE_REPORT), "{count} comment(s) visible; their reports are dismissed.",
         state=CommentState.VISIBLE),
    _row("dismiss_reports", "Dismiss the reports of selected comments (comment unchanged)",
         services.reports_close_for_target, "comment",
         (CHANGE_COMMENT, CHANGE_REPORT), "Reports of {count} comment(s) dismissed.", resolve=False),
)  # fmt: skip


class ModerateActionsMixin:
    """A model admin whose ``actions`` are the rows of ``moderator_actions``.

    Each row becomes a reason action under its name; the admin's ``moderate``
    permission (the decision form of the queues, the action menu) needs every
    permission of its rows, and an action is offered only to those holding its row's.
    """

    moderator_actions: tuple[ModeratorAction, ...] = ()
    moderate_permissions: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "moderator_actions" in vars(cls):
            for row in cls.moderator_actions:
                setattr(cls, row.name, reason_action(row))
            cls.actions = tuple(row.name for row in cls.moderator_actions)
            cls.moderate_permissions = tuple(
                dict.fromkeys(permission for row in cls.moderator_actions for permission in row.permissions)
            )

    def has_moderate_permission(self, request) -> bool:
        return bool(self.moderate_permissions) and request.user.has_perms(self.moderate_permissions)

    def get_actions(self, request):
        actions = super().get_actions(request)
        for row in self.moderator_actions:
            if row.name in actions and not request.user.has_perms(row.permissions):
                del actions[row.name]
        return actions


def reason_action(row: ModeratorAction):
    """An admin action that asks for a reason, then performs ``row`` for each selected object."""
    description, done = row.description, row.done

    @admin.action(description=description, permissions=("moderate",))
    def action(modeladmin, request, queryset):
        form = ReasonForm(request.POST if request.POST.get(CONFIRM_FIELD) else None)
        objects = list(queryset)
        if form.is_bound and form.is_valid():
            succeeded = 0
            for obj in objects:
                try:
                    row.perform(modeladmin, request, obj, form.cleaned_data["reason"])
                except ApplicationError as exc:
                    modeladmin.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
                else:
                    succeeded += 1
            if succeeded:
                modeladmin.message_user(request, done.format(count=succeeded), messages.SUCCESS)
            return None  # back to the changelist
        opts = modeladmin.model._meta
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": description,
            "subtitle": None,
            "opts": opts,
            "app_label": opts.app_label,
            "objects": objects,
            "form": form,
            "action_name": action.__name__,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "confirm_field": CONFIRM_FIELD,
            "confirm_label": description,
            "media": modeladmin.media,
        }
        request.current_app = modeladmin.admin_site.name
        return TemplateResponse(request, "admin/moderation/reason_confirmation.html", context)

    action.__name__ = row.name
    # The report queues' decision form runs the same action on one object (``decide``).
    action.perform, action.done = row.perform, done
    return action
