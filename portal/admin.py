import json

from django.contrib import admin
from django.utils.html import format_html

from .admin_filters import date_range_filter
from .audit import AuditAction, covering_seal
from .datakeys import KeyRing
from .models import AuditEvent, AuditSeal


class ReadOnlyTrailAdmin(admin.ModelAdmin):
    """The trail is written by `portal.audit` alone: nobody adds, edits or deletes here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyTrailAdmin):
    """The audit trail, to read (SPEC §5): no role, superuser included, adds, edits or
    deletes an entry here; on PostgreSQL the database refuses it too."""

    list_display = [
        "occurred_at",
        "actor_label",
        "what",
        "object_type",
        "object_id",
        "object_shown",
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
        "object_shown",
        "before_json",
        "after_json",
        "reason_shown",
        "hash",
        "key_id",
        "seal",
    ]
    readonly_fields = ["object_shown", "before_json", "after_json", "reason_shown", "seal"]

    # rule B7: sealed personal values are shown opened while the holder's data key exists,
    # "[erased]" after. Sealed text cannot be searched: find a holder's events by object id.

    @admin.display(description="action", ordering="action")
    def what(self, event):
        return AuditAction.words(event.action)

    @admin.display(description="object")
    def object_shown(self, event):
        return KeyRing().open(event.object_repr)

    @admin.display(description="before")
    def before_json(self, event):
        return _json(KeyRing().open_values(event.before))

    @admin.display(description="after")
    def after_json(self, event):
        return _json(KeyRing().open_values(event.after))

    @admin.display(description="reason")
    def reason_shown(self, event):
        return KeyRing().open(event.reason)

    @admin.display(description="seal")
    def seal(self, event):
        """The seal that links the event into the chain; none yet for a moment after it
        was written (SPEC §5)."""
        return covering_seal(event.pk) or "not sealed yet"


@admin.register(AuditSeal)
class AuditSealAdmin(ReadOnlyTrailAdmin):
    """The seal chain that links the audit trail's events (SPEC §5), to read only."""

    list_display = ["id", "sealed_at", "first_event_id", "last_event_id", "events", "key_id"]
    fields = [
        "sealed_at",
        "first_event_id",
        "last_event_id",
        "events",
        "digest",
        "prev_hash",
        "hash",
        "key_id",
    ]
    show_full_result_count = False


def _json(values):
    return format_html("<pre>{}</pre>", json.dumps(values, indent=2, sort_keys=True))
