"""Emails to holders, to read: which went out, which are still waiting and why they
failed (E9, N3). `retry_pending_work` retries the unsent ones; nobody edits them here.
Inactivity notices that could not be emailed are letters that staff mail (N3)."""

from django.contrib import admin
from django.db.models import F, Prefetch, Q
from django.utils import timezone

from accounts.models import CustomerAccount, MailingAddress
from portal.business_calendar import business_date

from ..models import HolderNotice, InactivityLetter, InactivityNotice
from ..services.inactivity import (
    first_notice_sent_at_subquery,
    inactivity_closes_on,
    inactivity_letter_mark_mailed,
)
from ..services.notices import holder_email_resend
from .base import ReadOnlyAdmin, apply_to_each, audit_history, language_words, link


def may_resend(request) -> bool:
    """Support and refund operations write to holders; auditors only read."""
    return request.user.has_perm("accounts.record_support_contact") or request.user.has_perm(
        "refunds.move_refund"
    )


class ResendInHolderLanguage(admin.ModelAdmin):
    """Rule B5: the back office is in English, but shows each holder's language and
    sends an email again in it. `holder_path` leads from the record to the holder."""

    holder_path: str
    actions = ["resend"]

    @admin.display(description="holder's language")
    def holder_language(self, record):
        holder = record
        for step in self.holder_path.split("__"):
            holder = getattr(holder, step)
        return language_words(holder)

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


# rule N3: a letter whose period ended with new activity (or whose account closed) is
# no longer needed.
LETTER_STILL_NEEDED = Q(
    inactive_since=F("account__last_activity_at"), account__status=CustomerAccount.Status.OPEN
)


class LetterStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("to_mail", "To mail"), ("mailed", "Mailed"), ("not_needed", "No longer needed")]

    def queryset(self, request, queryset):
        unsent = queryset.filter(sent_at__isnull=True)
        if self.value() == "to_mail":
            return unsent.filter(LETTER_STILL_NEEDED)
        if self.value() == "mailed":
            return queryset.filter(sent_at__isnull=False)
        if self.value() == "not_needed":
            return unsent.exclude(LETTER_STILL_NEEDED)
        return queryset


@admin.register(InactivityLetter)
class InactivityLetterAdmin(ReadOnlyAdmin):
    """Inactivity notices for holders with no email on record: print, mail, mark mailed.
    Only a mailed letter counts as a notice, so the account cannot close before it."""

    list_display = [
        "account",
        "holder_name",
        "mail_to",
        "days_before",
        "closes_on_if_mailed_today",
        "created_at",
        "state",
    ]
    list_select_related = ["account__holder"]
    list_filter = [LetterStateFilter, "days_before"]
    search_fields = ["account__number", "account__holder__last_name"]
    search_help_text = "Account number or holder last name"
    ordering = ["created_at", "id"]
    actions = ["bulk_mark_mailed"]
    readonly_fields = (
        "account",
        "holder_name",
        "mail_to",
        "days_before",
        "closes_on_if_mailed_today",
        "created_at",
        "sent_at",
        "state",
        "history",
    )
    fields = readonly_fields

    def get_queryset(self, request):
        current = MailingAddress.objects.filter(replaced_at__isnull=True)
        return (
            super()
            .get_queryset(request)
            .annotate(
                still_needed=Q(LETTER_STILL_NEEDED),
                first_sent_at=first_notice_sent_at_subquery("account", "inactive_since"),
            )
            .prefetch_related(Prefetch("account__addresses", current, to_attr="current"))
        )

    @admin.display(description="holder")
    def holder_name(self, letter):
        holder = letter.account.holder
        return holder.get_full_name() or "(no name)"

    @admin.display(description="mail to")
    def mail_to(self, letter):
        addresses = letter.account.current
        return ", ".join(addresses[0].lines()) if addresses else "No address on record"

    @admin.display(description="closes on, if mailed today")
    def closes_on_if_mailed_today(self, letter):
        if letter.sent_at is not None or not letter.still_needed:
            return letter.closes_on
        return inactivity_closes_on(
            inactive_since=letter.inactive_since,
            first_notice_sent_at=letter.first_sent_at,
            today=business_date(timezone.now()),
        )

    @admin.display(description="state")
    def state(self, letter):
        if letter.sent_at is not None:
            return "Mailed"
        return "To mail" if letter.still_needed else "No longer needed"

    @admin.display(description="who did what, when and why")
    def history(self, letter):
        return audit_history(letter)

    def has_mail_letter_permission(self, request):
        return request.user.has_perm("refunds.mail_letter")

    @admin.action(description="Mark mailed today", permissions=["mail_letter"])
    def bulk_mark_mailed(self, request, queryset):
        now = timezone.now()
        apply_to_each(
            request,
            queryset.select_related("account"),
            lambda letter: inactivity_letter_mark_mailed(notice=letter, actor=request.user, at=now),
            "Letters marked mailed: {done} of {total}.",
        )
