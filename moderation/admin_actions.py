"""The one kind of moderator action in the admin: ask for a reason, then call a service.

``reason_action`` makes an admin action: the first POST (from the changelist) shows a
confirmation page listing the selected objects with a required reason field; submitting
it calls ``perform`` once per object. ``perform`` calls a ``moderation.services``
function, which writes the change and its audit entry. Every such action needs the
``moderate`` permission of its model admin (``ModerateActionsMixin``).
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse

from tiktok.exceptions import ApplicationError

REASON_MAX_LENGTH = 300
CONFIRM_FIELD = "confirm_reason"


class ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60, "autofocus": True}),
        help_text="Recorded in the audit log with your name and the time.",
    )


class ModerateActionsMixin:
    """A model admin whose reason actions need every permission in ``moderate_permissions``."""

    moderate_permissions: tuple[str, ...] = ()

    def has_moderate_permission(self, request) -> bool:
        return bool(self.moderate_permissions) and request.user.has_perms(self.moderate_permissions)


def perform_with(service: Callable, target: str, **options) -> Callable:
    """A ``perform`` that calls ``service(<target>=obj, actor=<the moderator>, reason=…, **options)``."""

    def perform(modeladmin, request, obj, reason: str) -> None:
        service(**{target: obj}, actor=request.user, reason=reason, **options)

    return perform


def reason_action(*, name: str, description: str, perform: Callable, done: str, confirm: str | None = None):
    """An admin action that asks for a reason, then calls ``perform`` for each selected object.

    ``name`` is the attribute the action is assigned to on the ModelAdmin (and listed
    under in ``actions``); ``done`` is the message after success, formatted with ``count``.
    """

    @admin.action(description=description, permissions=("moderate",))
    def action(modeladmin, request, queryset):
        form = ReasonForm(request.POST if request.POST.get(CONFIRM_FIELD) else None)
        objects = list(queryset)
        if form.is_bound and form.is_valid():
            succeeded = 0
            for obj in objects:
                try:
                    perform(modeladmin, request, obj, form.cleaned_data["reason"])
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
            "confirm_label": confirm or description,
            "media": modeladmin.media,
        }
        request.current_app = modeladmin.admin_site.name
        return TemplateResponse(request, "admin/moderation/reason_confirmation.html", context)

    action.__name__ = name
    # The report queues' decision form runs the same action on one object (``decide``).
    action.perform, action.done = perform, done
    return action
