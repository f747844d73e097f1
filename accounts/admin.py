"""Admin for users: profiles and accounts.

Only holders of ``change_user`` edit accounts or passwords. Suspension fields are
read-only here: the moderation app adds the suspend and reinstate actions (its
services also take the user's videos out of feeds and back, and write the audit log).
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count
from knox.models import AuthToken

from accounts.admin_site import RevokingSetPasswordForm
from accounts.models import User


class SuspendedFilter(admin.SimpleListFilter):
    title = "suspended"
    parameter_name = "suspended"

    def lookups(self, request, model_admin):
        return (("yes", "Suspended"), ("no", "Not suspended"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(suspended_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(suspended_at__isnull=True)
        return queryset


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    change_password_form = RevokingSetPasswordForm
    list_display = (
        "username", "display_name", "email", "video_count", "followers_count", "is_staff", "suspended_at",
        "date_joined",
    )  # fmt: skip
    list_filter = (SuspendedFilter, "is_staff", "is_superuser", "is_active", "groups", "date_joined")
    search_fields = ("username", "display_name", "email")
    ordering = ("-date_joined", "-id")
    list_per_page = 100
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Profile", {"fields": ("display_name", "bio", "followers_count", "following_count", "last_seen_at")}),
        ("Moderation", {"fields": ("suspended_at", "suspension_reason")}),
    )
    readonly_fields = (
        "followers_count", "following_count", "last_seen_at", "suspended_at", "suspension_reason", "last_login",
        "date_joined",
    )  # fmt: skip

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(video_total=Count("videos", distinct=True))

    @admin.display(description="videos", ordering="video_total")
    def video_count(self, user: User) -> int:
        return user.video_total


# Knox lists token digests and lets an admin delete rows, which would bypass the token
# cache (a deleted row's cached entry would keep working until it expires). Tokens are
# ended through services only: logout, password change, suspension.
admin.site.unregister(AuthToken)
