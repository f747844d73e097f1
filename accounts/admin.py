"""Admin for users: profiles, suspension and reinstatement (actions with a reason).

Moderators (``accounts.view_user`` + ``accounts.suspend_user``) see users and run the
suspension actions; only holders of ``change_user`` edit accounts or passwords.
Suspension fields are read-only: the services also take the user's videos out of
feeds (and back) and write the audit log.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count

from accounts.models import User
from tiktok.admin_actions import reason_action


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


def _suspend(modeladmin, request, user, reason):
    from accounts.services import user_suspend

    user_suspend(user=user, actor=request.user, reason=reason)


def _reinstate(modeladmin, request, user, reason):
    from accounts.services import user_reinstate

    user_reinstate(user=user, actor=request.user, reason=reason)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
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
    actions = ("suspend", "reinstate")

    suspend = reason_action(
        name="suspend",
        description="Suspend selected users",
        permissions=("suspend",),
        perform=_suspend,
        done="{count} user(s) suspended; their videos leave feeds.",
    )
    reinstate = reason_action(
        name="reinstate",
        description="Reinstate selected users",
        permissions=("suspend",),
        perform=_reinstate,
        done="{count} user(s) reinstated; their videos return to feeds.",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(video_total=Count("videos", distinct=True))

    def has_suspend_permission(self, request) -> bool:
        return request.user.has_perm("accounts.suspend_user")

    @admin.display(description="videos", ordering="video_total")
    def video_count(self, user: User) -> int:
        return user.video_total
