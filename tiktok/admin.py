"""Admin for project-wide tables (the task outbox) and the one read-only admin base."""

from django.contrib import admin

from tiktok.models import OutboxMessage


class ReadOnlyMixin:
    """Rows written only by services; the admin shows them (model admins and inlines)."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """A model admin that lists and shows rows, never writes them (actions may call services)."""


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ("id", "task_name", "args", "created_at", "sent_at", "sends", "attempts", "last_error")
    list_filter = ("task_name", "created_at")
    search_fields = ("task_name",)
    ordering = ("id",)
    list_per_page = 100
