"""Admin for project-wide tables: the moderation audit log and the task outbox (read-only)."""

from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from tiktok.models import AuditEntry, OutboxMessage


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by services; the admin shows them."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


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


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ("id", "task_name", "args", "attempts", "last_error", "created_at")
    list_filter = ("task_name", "created_at")
    search_fields = ("task_name",)
    ordering = ("id",)
    list_per_page = 100
