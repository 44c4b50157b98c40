"""Support: find a holder and see their whole file on one page (SPEC §5)."""

import re

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django_object_actions import DjangoObjectActions, action
from phonenumber_field.phonenumber import to_python

from accounts.models import (
    AdvanceConnect,
    CustomerAccount,
    DirectBill,
    EMessaging,
    MailingAddress,
    PhoneNumber,
    SecurusDebit,
    SupportNote,
    TopUpEnrolment,
    VideoSession,
    VideoSubscription,
    phone_national,
)
from accounts.selectors import advance_connect_summary, stamps_balance
from accounts.services import Activity
from portal.money import format_cents

from ..models import Closure, Refund
from ..services.erasure import erasure_schedule, legal_hold_place
from ..services.support import support_contact_record, support_note_add
from . import forms
from .base import (
    FORM_PAGE,
    POST_BUTTON,
    ReadOnlyAdmin,
    ReadOnlyStackedInline,
    ReadOnlyTabularInline,
    StateListFilter,
    form_action,
    language_words,
    link,
    posted,
    state_name,
    table,
)
from .refunds import hold_window
from .search import IndexedSearch, SearchPaths

LEDGER_ROWS = 50
# A phone number, or part of one, is on a handful of accounts; past this it says nothing.
PHONE_MATCHES = 1000


class PhoneNumberInline(ReadOnlyTabularInline):
    model = PhoneNumber
    fields = ["number", "label"]


class MailingAddressInline(ReadOnlyTabularInline):
    model = MailingAddress
    fields = ["__str__", "source", "created_at", "confirmed_at", "replaced_at"]
    readonly_fields = ["__str__"]
    verbose_name_plural = "addresses (current first, then history)"


class AdvanceConnectInline(ReadOnlyStackedInline):
    model = AdvanceConnect
    fields = ["opened_at", "balance", "ledger"]
    readonly_fields = ["balance", "ledger"]

    @admin.display(description="balance")
    def balance(self, advance_connect):
        summary = advance_connect_summary(advance_connect)
        return (
            f"{format_cents(summary.balance_cents)}; {format_cents(summary.unsettled_cents)} "
            f"in {summary.unsettled_count} unsettled call charge(s)"
        )

    @admin.display(description=f"ledger (latest {LEDGER_ROWS})")
    def ledger(self, advance_connect):
        entries = advance_connect.entries.order_by("-occurred_at", "-id")[:LEDGER_ROWS]
        return table(
            ["When", "Kind", "Amount", "Method", "Card", "Number called", "Settled", "Memo"],
            (
                (
                    entry.occurred_at,
                    entry.get_kind_display(),
                    format_cents(entry.signed_cents),
                    entry.get_method_display(),
                    f"{entry.card_brand} {entry.card_last4}".strip(),
                    phone_national(entry.number_called),
                    entry.settled_at,
                    entry.memo,
                )
                for entry in entries
            ),
        )


class TopUpInline(ReadOnlyTabularInline):
    model = TopUpEnrolment
    fields = ["kind", "enrolled_at", "terminated_at"]


class DirectBillInline(ReadOnlyStackedInline):
    model = DirectBill
    fields = ["billing_day", "opened_at", "closed_at", "statements", "unbilled"]
    readonly_fields = ["statements", "unbilled"]

    @admin.display(description="statements")
    def statements(self, direct_bill):
        return table(
            ["Statement", "Date", "Amount", "Due", "Status"],
            (
                (
                    link("admin:accounts_directbillstatement_change", s.pk, str(s)),
                    s.statement_date,
                    format_cents(s.amount_cents),
                    s.due_date,
                    s.get_status_display(),
                )
                for s in direct_bill.statements.all()
            ),
        )

    @admin.display(description="unbilled charges")
    def unbilled(self, direct_bill):
        charges = direct_bill.charges.filter(statement__isnull=True)
        return table(
            ["When", "Description", "Number called", "Amount"],
            (
                (
                    c.occurred_at,
                    c.description,
                    phone_national(c.number_called),
                    format_cents(c.amount_cents),
                )
                for c in charges
            ),
        )


class SecurusDebitInline(ReadOnlyTabularInline):
    model = SecurusDebit
    fields = ["incarcerated_name", "facility", "balance"]
    readonly_fields = ["balance"]

    @admin.display(description="balance (theirs, never refunded)")
    def balance(self, debit):
        return format_cents(debit.balance_cents)


class EMessagingInline(ReadOnlyStackedInline):
    model = EMessaging
    fields = ["stamps"]
    readonly_fields = ["stamps"]

    @admin.display(description="stamps left")
    def stamps(self, emessaging):
        return stamps_balance(emessaging)


class VideoSubscriptionInline(ReadOnlyTabularInline):
    model = VideoSubscription
    fields = ["plan", "price", "started_at", "status", "cancelled_at"]
    readonly_fields = ["price"]

    @admin.display(description="monthly price")
    def price(self, subscription):
        return format_cents(subscription.monthly_price_cents)


class VideoSessionInline(ReadOnlyTabularInline):
    model = VideoSession
    fields = ["starts_at", "incarcerated_name", "facility", "paid", "status"]
    readonly_fields = ["paid"]

    @admin.display(description="paid")
    def paid(self, session):
        return format_cents(session.amount_paid_cents)


class ClosureInline(ReadOnlyStackedInline):
    model = Closure
    fk_name = "account"
    readonly_fields = (
        "closure",
        "reason",
        "closed_at",
        "refund",
        "hold",
        "refunds",
        "address_changes",
    )
    fields = readonly_fields

    @admin.display(description="closure")
    def closure(self, closure):
        return link("admin:refunds_closure_change", closure.pk, closure.reference)

    @admin.display(description="refunded")
    def refund(self, closure):
        return format_cents(closure.refund_cents)

    @admin.display(description="Direct Bill hold (rule E5)")
    def hold(self, closure):
        return hold_window(closure)

    @admin.display(description="refunds")
    def refunds(self, closure):
        return table(
            ["Refund", "Method", "Status", "Amount", "Due", "Check number", "Goes to"],
            (
                (
                    link("admin:refunds_refund_change", r.pk, f"#{r.pk}"),
                    r.get_method_display(),
                    r.get_status_display(),
                    format_cents(r.amount_cents),
                    r.due_date,
                    r.check_number,
                    ", ".join(r.address_lines()),
                )
                for r in Refund.objects.filter(closure=closure).order_by("created_at", "id")
            ),
        )

    @admin.display(description="new addresses given without signing in (rule B3)")
    def address_changes(self, closure):
        return table(
            ["Request", "Asked", "New address", "Status", "Link emailed", "Link expires"],
            (
                (
                    link("admin:refunds_addresschangerequest_change", c.pk, f"#{c.pk}"),
                    c.created_at,
                    ", ".join(c.address_lines()),
                    c.get_status_display(),
                    c.emailed_at,
                    c.expires_at,
                )
                for c in closure.address_changes.all()
            ),
        )


class SupportNoteInline(ReadOnlyTabularInline):
    model = SupportNote
    fields = ["created_at", "author", "text"]
    verbose_name_plural = "support notes (newest first)"


@admin.register(CustomerAccount)
class CustomerAccountAdmin(IndexedSearch, DjangoObjectActions, ReadOnlyAdmin):
    list_display = [
        "number",
        "holder_name",
        "holder_email",
        "holder_language",
        "status",
        "state",
        "closure_reference",
        "last_activity_at",
    ]
    list_select_related = ["holder", "closure"]
    list_only = [
        "number",
        "holder__first_name",
        "holder__last_name",
        "holder__email",
        "holder__language",
        "status",
        "service_state",
        "closure__reference",
        "last_activity_at",
    ]
    list_filter = ["status", ("service_state", StateListFilter)]
    search_paths = SearchPaths(
        references=["closure__reference"],
        account_numbers=["number"],
        emails=["holder__email"],
        holders=["holder"],
    )
    search_help_text = "Name, email, phone number, account number or closure reference"
    fields = [
        "holder_name",
        "holder_email",
        "holder_language",
        "number",
        "status",
        "service_state",
        "time_zone",
        "opened_at",
        "closed_at",
        "erasure",
        "last_activity_at",
        "last_activity",
    ]
    readonly_fields = ["holder_name", "holder_email", "holder_language", "last_activity", "erasure"]
    inlines = [
        PhoneNumberInline,
        MailingAddressInline,
        AdvanceConnectInline,
        TopUpInline,
        DirectBillInline,
        SecurusDebitInline,
        EMessagingInline,
        VideoSubscriptionInline,
        VideoSessionInline,
        ClosureInline,
        SupportNoteInline,
    ]
    change_actions = ["add_note", "holder_contacted_support", "place_legal_hold"]

    def get_inline_instances(self, request, obj=None):
        """Only the services the account has (and its closure and notes, if any)."""
        return [
            inline
            for inline in super().get_inline_instances(request, obj)
            if obj is None
            or inline.model._default_manager.filter(**{inline.fk_name or "account": obj}).exists()
        ]

    @admin.display(description="service state", ordering="service_state")
    def state(self, account):
        return state_name(account.service_state)

    @admin.display(description="holder", ordering="holder__last_name")
    def holder_name(self, account):
        return account.holder.get_full_name()

    @admin.display(description="email", ordering="holder__email")
    def holder_email(self, account):
        return account.holder.email

    @admin.display(description="erasure (rule B7)")
    def erasure(self, account):
        """When each stage erases the account, what it erased and any legal hold."""
        closure = getattr(account, "closure", None)
        if closure is None:
            return "Open: nothing is erased while the account is open."
        schedule = erasure_schedule(closure=closure, now=timezone.now())
        when = "" if schedule.final else " (expected; the money is not final yet)"
        lines = [f"Money final: {schedule.money_final_on}{when}"]
        for label, day, done in (
            ("Sign-in identity", schedule.identity_on, schedule.identity_erased_at),
            ("Names and addresses", schedule.records_on, schedule.records_erased_at),
        ):
            lines.append(f"{label}: erased {done:%Y-%m-%d}" if done else f"{label}: on {day}")
        if schedule.hold:
            until = schedule.hold.until or "lifted"
            lines.append(f"On legal hold since {schedule.hold.placed_at:%Y-%m-%d}, until {until}")
        return format_html_join("", "<div>{}</div>", ((line,) for line in lines))

    @action(label="Place a legal hold")
    def place_legal_hold(self, request, account):
        if not request.user.has_perm("refunds.place_legal_hold"):
            raise PermissionDenied
        back = reverse("admin:accounts_customeraccount_change", args=[account.pk])

        def run(data):
            legal_hold_place(account=account, actor=request.user, **data)
            return "Legal hold placed: erasure waits until it ends.", back

        return form_action(
            self,
            request,
            form=forms.LegalHoldForm(posted(request)),
            run=run,
            title=f"Place a legal hold on account {account.number}",
            objects=[],
            back=back,
            submit="Place the hold",
        )

    @admin.display(description="last activity was")
    def last_activity(self, account):
        return Activity.words(account.last_activity_kind)

    @admin.display(description="language", ordering="holder__language")
    def holder_language(self, account):
        """Rule B5: the language the holder reads pages and emails in."""
        return language_words(account.holder)

    @admin.display(description="closure")
    def closure_reference(self, account):
        closure = getattr(account, "closure", None)
        return closure.reference if closure else ""

    def get_search_results(self, request, queryset, search_term):
        """Also find a phone number however it is typed (`505-555-0105`, `(505) 555 0105`):
        a whole number is normalised to the stored E.164; part of one, by its digits. A
        typed-out number is searched as a phone number only; bare digits may also be an
        account number. The accounts are looked up first, so that the list's filter stays
        on the accounts table, where PostgreSQL combines the indexes."""
        term = search_term.strip()
        number = to_python(term, region="US")
        digits = re.sub(r"\D", "", term)
        if number and number.is_valid():
            phones = PhoneNumber.objects.filter(number=number)
        elif len(digits) >= 7 and digits != term:
            phones = PhoneNumber.objects.filter(number__contains=digits)
        else:
            return super().get_search_results(request, queryset, search_term)
        ids = list(phones.values_list("account_id", flat=True)[:PHONE_MATCHES])
        by_phone = queryset.filter(pk__in=ids)
        if digits != term:
            return by_phone, False
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        return found | by_phone, may_have_duplicates

    def get_change_actions(self, request, object_id, form_url):
        return [
            name
            for name, permission in (
                ("add_note", "accounts.add_supportnote"),
                ("holder_contacted_support", "accounts.record_support_contact"),
                ("place_legal_hold", "refunds.place_legal_hold"),
            )
            if request.user.has_perm(permission)
        ]

    @action(label="Add a note", **FORM_PAGE)
    def add_note(self, request, account):
        if not request.user.has_perm("accounts.add_supportnote"):
            raise PermissionDenied
        back = reverse("admin:accounts_customeraccount_change", args=[account.pk])

        def run(data):
            support_note_add(account=account, author=request.user, **data)
            return "Note added.", back

        return form_action(
            self,
            request,
            form=forms.SupportNoteForm(posted(request)),
            run=run,
            title=f"Add a note to account {account.number}",
            objects=[],
            back=back,
            submit="Add the note",
        )

    @action(label="Holder contacted support", **POST_BUTTON)
    def holder_contacted_support(self, request, account):
        if not request.user.has_perm("accounts.record_support_contact"):
            raise PermissionDenied
        if support_contact_record(account=account, actor=request.user):
            messages.success(
                request, "Recorded: the holder contacted support. That is activity (rule N2)."
            )
        else:
            messages.info(request, "This call was already recorded a moment ago.")
