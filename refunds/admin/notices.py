"""Emails to holders, to read: which went out, which are still waiting and why they
failed (E9, N3). `retry_pending_work` retries the unsent ones; nobody edits them here."""

from django.contrib import admin

from ..models import HolderNotice, InactivityNotice
from .base import ReadOnlyAdmin, link


class SentFilter(admin.SimpleListFilter):
    title = "sent"
    parameter_name = "sent"

    def lookups(self, request, model_admin):
        return [("yes", "Sent"), ("no", "Not sent yet")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(sent_at__isnull=self.value() == "no")
        return queryset


@admin.register(HolderNotice)
class HolderNoticeAdmin(ReadOnlyAdmin):
    list_display = [
        "kind",
        "closure_reference",
        "user",
        "created_at",
        "sent_at",
        "attempts",
        "last_error",
    ]
    list_select_related = ["closure", "user"]
    list_filter = [SentFilter, "kind"]
    search_fields = ["closure__reference", "user__email"]
    search_help_text = "Closure reference or holder email"
    fields = [
        "kind",
        "closure_link",
        "refund_link",
        "user",
        "key",
        "created_at",
        "sent_at",
        "attempts",
        "last_error",
    ]
    readonly_fields = ["closure_link", "refund_link"]

    @admin.display(description="closure", ordering="closure__reference")
    def closure_reference(self, notice):
        return notice.closure.reference

    @admin.display(description="closure")
    def closure_link(self, notice):
        return link("admin:refunds_closure_change", notice.closure_id, notice.closure.reference)

    @admin.display(description="refund")
    def refund_link(self, notice):
        return notice.refund_id and link("admin:refunds_refund_change", notice.refund_id)


@admin.register(InactivityNotice)
class InactivityNoticeAdmin(ReadOnlyAdmin):
    list_display = [
        "account",
        "days_before",
        "closes_on",
        "inactive_since",
        "created_at",
        "sent_at",
    ]
    list_select_related = ["account"]
    list_filter = [SentFilter, "days_before"]
    search_fields = ["account__number", "account__holder__email"]
    search_help_text = "Account number or holder email"
