from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "display_name", "email", "followers_count", "is_staff", "suspended_at", "date_joined")
    list_filter = ("is_staff", "is_active", "date_joined")
    search_fields = ("username", "display_name", "email")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Profile", {"fields": ("display_name", "bio", "followers_count", "following_count", "last_seen_at")}),
        ("Moderation", {"fields": ("suspended_at", "suspension_reason")}),
    )
