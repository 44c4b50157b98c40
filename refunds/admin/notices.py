"""Emails to holders, to read: which went out, which are still waiting and why they
failed (E9, N3). `retry_pending_work` retries the unsent ones; nobody edits them here."""

from django.contrib import admin
from django.utils import timezone

from ..models import HolderNotice, InactivityNotice
from ..services.notices import NotSentYet, holder_email_resend
from .base import ReadOnlyAdmin, apply_to_each, link


def may_resend(request) -> bool:
    """Support and refund operations write to holders; auditors only read."""
    return request.user.has_perm("accounts.record_support_contact") or request.user.has_perm(
        "refunds.move_refund"
    )


class ResendInHolderLanguage:
    """Rule B5: the back office is in English, but shows each holder's language and
    sends an email again in it. `holder_path` leads from the record to the holder."""

    holder_path: str
    actions = ["resend"]

    @admin.display(description="holder's language")
    def holder_language(self, record):
        holder = record
        for step in self.holder_path.split("__"):
            holder = getattr(holder, step)
        return holder.language or "not chosen (English)"

    def has_resend_permission(self, request):
        return may_resend(request)

    @admin.action(description="Send again, in the holder's language", permissions=["resend"])
    def resend(self, request, queryset):
        apply_to_each(
            request,
            queryset,
            lambda record: holder_email_resend(
                record=record, actor=request.user, at=timezone.now()
            ),
            NotSentYet,
            "Sent {done} of {total} again, each in the holder's language.",
        )


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
class HolderNoticeAdmin(ResendInHolderLanguage, ReadOnlyAdmin):
    holder_path = "user"
    list_display = [
        "kind",
        "closure_reference",
        "user",
        "holder_language",
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
class InactivityNoticeAdmin(ResendInHolderLanguage, ReadOnlyAdmin):
    holder_path = "account__holder"
    list_display = [
        "account",
        "holder_language",
        "days_before",
        "closes_on",
        "inactive_since",
        "created_at",
        "sent_at",
    ]
    list_select_related = ["account__holder"]
    list_filter = [SentFilter, "days_before"]
    search_fields = ["account__number", "account__holder__email"]
    search_help_text = "Account number or holder email"
