"""The admin site (``AccountsAdminConfig.default_site``): Django's, with the account rules.

* Suspended accounts are refused on every admin request (``has_permission``, and the
  authentication backend turns their session into an anonymous one).
* The login form goes through ``accounts.services.user_authenticate``: the same
  per-address throttle, per-(account, address) backoff and account-wide limit as the
  API's login, keyed by the address ``tiktok.client_address`` trusts.
* A password changed here (one's own, or another user's by an admin) signs every API
  device of that user out.
"""

from __future__ import annotations

import math

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.forms import AdminPasswordChangeForm as OwnPasswordChangeForm
from django.contrib.auth.forms import AdminPasswordChangeForm as SetPasswordForm
from django.contrib.auth.views import PasswordChangeView
from django.urls import reverse

from accounts import services
from tiktok.client_address import client_limit_key
from tiktok.exceptions import ApplicationError
from tiktok.throttles import AuthThrottle


class AdminLoginForm(AdminAuthenticationForm):
    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if not username or not password:
            return self.cleaned_data
        throttle = AuthThrottle()
        if not throttle.allow_request(self.request, None):
            wait = math.ceil(throttle.wait() or 1)
            raise forms.ValidationError(f"Too many login attempts; try again in {wait} seconds.", code="throttled")
        try:
            user = services.user_authenticate(
                username=username, password=password, address=client_limit_key(self.request)
            )
        except services.LoginLockedError as exc:
            raise forms.ValidationError(exc.message, code="login_locked") from exc
        except ApplicationError as exc:
            if exc.code == "account_suspended":
                raise forms.ValidationError("This account is suspended.", code="suspended") from exc
            raise self.get_invalid_login_error() from exc
        self.user_cache = user
        self.confirm_login_allowed(user)
        return self.cleaned_data


class RevokingOwnPasswordChangeForm(OwnPasswordChangeForm):
    """A staff member's own password change: every API device of theirs is signed out."""

    def save(self, commit=True):
        user = super().save(commit=commit)
        services.user_credentials_revoke(user=user)
        return user


class RevokingSetPasswordForm(SetPasswordForm):
    """An admin setting another user's password: every API device of theirs is signed out."""

    def save(self, commit=True):
        user = super().save(commit=commit)
        services.user_credentials_revoke(user=user)
        return user


class AdminSite(admin.AdminSite):
    login_form = AdminLoginForm

    def has_permission(self, request) -> bool:
        return super().has_permission(request) and getattr(request.user, "suspended_at", None) is None

    def password_change(self, request, extra_context=None):
        # Django's view with the form that revokes tokens (the stock one is hard-wired).
        defaults = {
            "form_class": RevokingOwnPasswordChangeForm,
            "success_url": reverse("admin:password_change_done", current_app=self.name),
            "extra_context": {**self.each_context(request), **(extra_context or {})},
        }
        if self.password_change_template is not None:
            defaults["template_name"] = self.password_change_template
        request.current_app = self.name
        return PasswordChangeView.as_view(**defaults)(request)
