import json

from django.contrib import admin
from django.utils.html import format_html

from .admin_filters import date_range_filter
from .audit import AuditAction
from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit trail, to read (SPEC §5): no role, superuser included, adds, edits or
    deletes an entry here; on PostgreSQL the database refuses it too."""

    list_display = [
        "occurred_at",
        "actor_label",
        "what",
        "object_type",
        "object_id",
        "object_repr",
    ]
    list_filter = ["action", "object_type", ("occurred_at", date_range_filter("when"))]
    search_fields = ["object_repr", "actor_label", "=object_id", "=action"]
    search_help_text = "Object, who, object id or action"
    show_full_result_count = False
    fields = [
        "occurred_at",
        "actor_label",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "before_json",
        "after_json",
        "reason",
        "prev_hash",
        "hash",
        "key_id",
    ]
    readonly_fields = ["before_json", "after_json"]

    @admin.display(description="action", ordering="action")
    def what(self, event):
        return AuditAction.words(event.action)

    @admin.display(description="before")
    def before_json(self, event):
        return _json(event.before)

    @admin.display(description="after")
    def after_json(self, event):
        return _json(event.after)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _json(values):
    return format_html("<pre>{}</pre>", json.dumps(values, indent=2, sort_keys=True))
