"""Refund operations: refunds and checks (SPEC §3), and closures, read-only."""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django_object_actions import DjangoObjectActions, action

from accounts.models import TopUpEnrolment
from portal.admin_filters import date_range_filter
from portal.business_calendar import business_date
from portal.errors import Refused
from portal.money import format_cents

from ..models import Closure, Refund
from ..selectors import overdue_q, refund_is_overdue
from ..services import transitions as t
from ..services.held_funds import (
    held_funds_can_hold,
    held_funds_from_refund,
)
from ..states import can_move
from . import forms
from .base import (
    FORM_PAGE,
    POST_BUTTON,
    ReadOnlyAdmin,
    ReadOnlyTabularInline,
    StateListFilter,
    action_page,
    apply_to_each,
    audit_history,
    bulk_hidden,
    form_action,
    link,
    posted,
)
from .notices import ResendInHolderLanguage
from .search import IndexedSearch, SearchPaths

S = Refund.Status


@dataclass(frozen=True)
class Move:
    """One SPEC §3 move as staff see it: a label, the status it leads to, the form
    it asks for, and the service it calls with the form's data."""

    label: str
    target: str
    run: Callable
    form: type | None = None


MOVES = {
    "mark_submitted": Move(
        "Submitted to the processor",
        S.SUBMITTED,
        lambda refund, actor, data: t.card_refund_mark_submitted(
            refund=refund, actor=actor, processor_reference=data["processor_reference"]
        ),
        forms.ProcessorReferenceForm,
    ),
    "mark_settled": Move(
        "Settled",
        S.SETTLED,
        lambda refund, actor, data: t.card_refund_mark_settled(refund=refund, actor=actor),
    ),
    "mark_failed": Move(
        "Failed: replace with a check",
        S.FAILED,
        lambda refund, actor, data: t.card_refund_fail(
            refund=refund, actor=actor, reason=data["reason"]
        ),
        forms.ReasonForm,
    ),
    "mark_issued": Move(
        "Mark issued",
        S.ISSUED,
        lambda refund, actor, data: t.refund_mark_issued(
            refund=refund,
            actor=actor,
            check_number=data["check_number"],
            issued_on=data["issued_on"],
        ),
        forms.IssueForm,
    ),
    "mark_mailed": Move(
        "Mark mailed",
        S.MAILED,
        lambda refund, actor, data: t.refund_mark_mailed(
            refund=refund, actor=actor, mailed_on=data["mailed_on"]
        ),
        forms.MailedForm,
    ),
    "mark_cashed": Move(
        "Mark cashed",
        S.CASHED,
        lambda refund, actor, data: t.refund_mark_cashed(
            refund=refund, actor=actor, cleared_on=data["cleared_on"]
        ),
        forms.CashedForm,
    ),
    "mark_returned": Move(
        "Returned undeliverable",
        S.RETURNED,
        lambda refund, actor, data: t.refund_mark_returned(
            refund=refund, actor=actor, reason=data["reason"]
        ),
        forms.ReasonForm,
    ),
    "reissue": Move(
        "Reissue to a corrected address",
        S.REISSUED,
        lambda refund, actor, data: t.refund_reissue(refund=refund, actor=actor, **data),
        forms.AddressForm,
    ),
    "void": Move(
        "Void",
        S.VOID,
        lambda refund, actor, data: t.refund_void(
            refund=refund, actor=actor, reason=data["reason"]
        ),
        forms.ReasonForm,
    ),
    "mark_stale": Move(
        "Mark stale",
        S.STALE,
        lambda refund, actor, data: t.refund_mark_stale(refund=refund, actor=actor),
    ),
    "mark_escheated": Move(
        "Remitted to the state",
        S.ESCHEATED,
        lambda refund, actor, data: t.refund_mark_escheated(
            refund=refund, actor=actor, report_reference=data["report_reference"]
        ),
        forms.EscheatForm,
    ),
}


class OverdueFilter(admin.SimpleListFilter):
    """SPEC §3: past due and not yet issued (card) or mailed (check)."""

    title = "overdue"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "Overdue")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(overdue_q(business_date(timezone.now())))
        return queryset


@admin.register(Refund)
class RefundAdmin(IndexedSearch, DjangoObjectActions, ReadOnlyAdmin):
    list_display = [
        "__str__",
        "method",
        "status",
        "amount",
        "due_date",
        "attention",
        "check_number",
        "payee_name",
        "service_state",
    ]
    list_select_related = ["closure__account"]
    list_only = [
        "closure__reference",
        "closure__account__service_state",
        "method",
        "status",
        "amount_cents",
        "due_date",
        "check_number",
        "payee_name",
        "needs_review",
    ]
    list_filter = [
        "status",
        "method",
        ("due_date", date_range_filter("due date")),
        ("closure__account__service_state", StateListFilter),
        OverdueFilter,
        "needs_review",
    ]
    search_paths = SearchPaths(
        references=["closure__reference"],
        check_numbers=["check_number"],
        account_numbers=["closure__account__number"],
        names=["payee_name"],
    )
    search_help_text = "Closure reference, check number, payee or account number"
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "closure_link",
                    "method",
                    "status",
                    "amount",
                    "due_date",
                    "overdue",
                    "needs_review",
                    "status_changed_at",
                    "status_reason",
                    "replaces_link",
                    "replaced_by_link",
                ]
            },
        ),
        ("Card", {"fields": ["card_brand", "card_last4", "processor_reference"]}),
        (
            "Check",
            {
                "fields": [
                    "check_number",
                    "payee_name",
                    "check_address",
                    "issued_on",
                    "mailed_on",
                    "cleared_on",
                    "escheat_report_reference",
                ]
            },
        ),
        ("History", {"fields": ["history"]}),
    ]
    change_actions = [*MOVES, "hold_funds"]
    actions = [
        "bulk_mark_issued",
        "bulk_mark_mailed",
        "bulk_mark_cashed",
        "bulk_mark_returned",
        "bulk_void",
        "bulk_mark_settled",
        "bulk_mark_failed",
        "bulk_mark_stale",
        "bulk_mark_escheated",
        "bulk_hold_funds",
    ]

    # --- columns and read-only fields ---

    @admin.display(description="amount", ordering="amount_cents")
    def amount(self, refund):
        return format_cents(refund.amount_cents)

    @admin.display(description="overdue", boolean=True)
    def overdue(self, refund):
        return refund_is_overdue(
            method=refund.method,
            status=refund.status,
            due_date=refund.due_date,
            today=business_date(timezone.now()),
        )

    @admin.display(description="needs attention")
    def attention(self, refund):
        """Overdue and needs staff review in one column, in words, only where true: the
        rows to act on stand out, and the two icon columns cost the list more than any
        other (each icon a static file's URL). The Overdue and Needs staff review filters
        list either."""
        flags = []
        if self.overdue(refund):
            flags.append("overdue")
        if refund.needs_review:
            flags.append("needs staff review")
        return ", ".join(flags)

    @admin.display(description="state", ordering="closure__account__service_state")
    def service_state(self, refund):
        return refund.closure.account.service_state

    @admin.display(description="closure")
    def closure_link(self, refund):
        return link("admin:refunds_closure_change", refund.closure_id, refund.closure.reference)

    @admin.display(description="replaces")
    def replaces_link(self, refund):
        return refund.replaces and link("admin:refunds_refund_change", refund.replaces_id, "")

    @admin.display(description="replaced by")
    def replaced_by_link(self, refund):
        replacement = Refund.objects.filter(replaces=refund).first()
        return replacement and link("admin:refunds_refund_change", replacement.pk, "")

    @admin.display(description="check goes to")
    def check_address(self, refund):
        return ", ".join(refund.address_lines())

    @admin.display(description="who did what, when and why")
    def history(self, refund):
        return audit_history(refund)

    def get_readonly_fields(self, request, obj=None):
        return [name for fieldset in self.fieldsets for name in fieldset[1]["fields"]]

    # --- permissions: only Refund operations move money (SPEC §5) ---

    def has_move_permission(self, request):
        return request.user.has_perm("refunds.move_refund")

    def get_change_actions(self, request, object_id, form_url):
        if not self.has_move_permission(request):
            return []
        refund = self.get_object(request, object_id)
        if refund is None:
            return []
        return [
            name
            for name, move in MOVES.items()
            if can_move(refund.method, refund.status, move.target)
        ] + (["hold_funds"] if held_funds_can_hold(refund) else [])

    # --- buttons on a refund ---

    def _move_one(self, request, refund, name):
        if not self.has_move_permission(request):
            raise PermissionDenied
        move = MOVES[name]
        back = reverse("admin:refunds_refund_change", args=[refund.pk])
        form = None
        if move.form is not None:
            form = move.form(request.POST) if "apply" in request.POST else move.form()
            if not form.is_bound or not form.is_valid():
                return self._page(request, move, form, [refund], back)
        try:
            result = move.run(refund, request.user, form.cleaned_data if form else {})
        except Refused as refused:
            if form is None:
                messages.error(request, str(refused))
                return redirect(back)
            form.add_error(None, str(refused))
            return self._page(request, move, form, [refund], back)
        messages.success(request, _done(refund, result))
        return redirect("admin:refunds_refund_change", result.pk)

    def _page(self, request, move, form, refunds, cancel_url, hidden=()):
        return action_page(
            self,
            request,
            title=move.label,
            form=form,
            objects=[t.describe(refund) for refund in refunds],
            cancel_url=cancel_url,
            hidden=hidden,
            submit=move.label,
        )

    @action(label="Submitted to the processor", **FORM_PAGE)
    def mark_submitted(self, request, refund):
        return self._move_one(request, refund, "mark_submitted")

    @action(label="Settled", **POST_BUTTON)
    def mark_settled(self, request, refund):
        return self._move_one(request, refund, "mark_settled")

    @action(label="Failed: replace with a check", **FORM_PAGE)
    def mark_failed(self, request, refund):
        return self._move_one(request, refund, "mark_failed")

    @action(label="Mark issued", **FORM_PAGE)
    def mark_issued(self, request, refund):
        return self._move_one(request, refund, "mark_issued")

    @action(label="Mark mailed", **FORM_PAGE)
    def mark_mailed(self, request, refund):
        return self._move_one(request, refund, "mark_mailed")

    @action(label="Mark cashed", **FORM_PAGE)
    def mark_cashed(self, request, refund):
        return self._move_one(request, refund, "mark_cashed")

    @action(label="Returned undeliverable", **FORM_PAGE)
    def mark_returned(self, request, refund):
        return self._move_one(request, refund, "mark_returned")

    @action(label="Reissue to a corrected address", **FORM_PAGE)
    def reissue(self, request, refund):
        return self._move_one(request, refund, "reissue")

    @action(label="Void", **FORM_PAGE)
    def void(self, request, refund):
        return self._move_one(request, refund, "void")

    @action(label="Mark stale", **POST_BUTTON)
    def mark_stale(self, request, refund):
        return self._move_one(request, refund, "mark_stale")

    @action(label="Remitted to the state", **FORM_PAGE)
    def mark_escheated(self, request, refund):
        return self._move_one(request, refund, "mark_escheated")

    # --- bulk actions on the list ---

    def _move_many(self, request, queryset, name):
        move = MOVES[name]
        refunds = list(queryset.select_related("closure"))
        one_number_each = name == "mark_issued"
        form_class = forms.IssueManyForm if one_number_each else move.form
        form = None
        if form_class is not None:
            extra = {"refunds": refunds} if one_number_each else {}
            form = form_class(request.POST, **extra) if "apply" in request.POST else None
            if form is None or not form.is_valid():
                changelist = reverse("admin:refunds_refund_changelist")
                hidden = bulk_hidden(request, queryset)
                form = form or form_class(**extra)
                return self._page(request, move, form, refunds, changelist, hidden)

        def run(refund):
            if form is None:
                data = {}
            else:
                data = form.data_for(refund) if one_number_each else form.cleaned_data
            move.run(refund, request.user, data)

        apply_to_each(request, refunds, run, move.label + ": {done} of {total} done.")
        return None

    @admin.action(description="Mark issued (asks for check numbers)", permissions=["move"])
    def bulk_mark_issued(self, request, queryset):
        return self._move_many(request, queryset, "mark_issued")

    @admin.action(description="Mark mailed", permissions=["move"])
    def bulk_mark_mailed(self, request, queryset):
        return self._move_many(request, queryset, "mark_mailed")

    @admin.action(description="Mark cashed", permissions=["move"])
    def bulk_mark_cashed(self, request, queryset):
        return self._move_many(request, queryset, "mark_cashed")

    @admin.action(description="Returned undeliverable (asks why)", permissions=["move"])
    def bulk_mark_returned(self, request, queryset):
        return self._move_many(request, queryset, "mark_returned")

    @admin.action(description="Void (asks why)", permissions=["move"])
    def bulk_void(self, request, queryset):
        return self._move_many(request, queryset, "void")

    @admin.action(description="Card refunds settled", permissions=["move"])
    def bulk_mark_settled(self, request, queryset):
        return self._move_many(request, queryset, "mark_settled")

    @admin.action(description="Card refunds failed: replace with checks", permissions=["move"])
    def bulk_mark_failed(self, request, queryset):
        return self._move_many(request, queryset, "mark_failed")

    @admin.action(description="Mark stale (180 days uncashed)", permissions=["move"])
    def bulk_mark_stale(self, request, queryset):
        return self._move_many(request, queryset, "mark_stale")

    @admin.action(description="Remitted to the state (one report)", permissions=["move"])
    def bulk_mark_escheated(self, request, queryset):
        return self._move_many(request, queryset, "mark_escheated")

    # --- held funds (rule N4) ---

    @action(label="Hold the funds", **FORM_PAGE)
    def hold_funds(self, request, refund):
        """Rule N4: a check that cannot be delivered is voided; its money is held."""
        if not self.has_move_permission(request):
            raise PermissionDenied

        def run(data):
            held = held_funds_from_refund(refund=refund, actor=request.user, reason=data["reason"])
            back = reverse("admin:refunds_heldfunds_change", args=[held.pk])
            return f"The {t.describe(refund)} is void; its money is held.", back

        return form_action(
            self,
            request,
            form=forms.ReasonForm(posted(request)),
            run=run,
            title="Hold the funds",
            objects=[t.describe(refund)],
            back=reverse("admin:refunds_refund_change", args=[refund.pk]),
        )

    @admin.action(description="Hold the funds (asks why)", permissions=["move"])
    def bulk_hold_funds(self, request, queryset):
        """Rule N4, for each selected check that is pending or returned."""
        refunds = list(queryset.select_related("closure"))
        form = forms.ReasonForm(posted(request))
        if not (form.is_bound and form.is_valid()):
            return action_page(
                self,
                request,
                title="Hold the funds",
                form=form,
                objects=[t.describe(refund) for refund in refunds],
                cancel_url=reverse("admin:refunds_refund_changelist"),
                hidden=bulk_hidden(request, queryset),
                submit="Hold the funds",
            )
        apply_to_each(
            request,
            refunds,
            lambda refund: held_funds_from_refund(
                refund=refund, actor=request.user, reason=form.cleaned_data["reason"]
            ),
            "Hold the funds: {done} of {total} done.",
        )
        return None


def _done(refund, result) -> str:
    refund.refresh_from_db()
    message = f"The {t.describe(refund)} is now {refund.get_status_display().lower()}."
    if result.pk != refund.pk:
        message += f" A new {t.describe(result)} replaces it."
    return message


class RefundInline(ReadOnlyTabularInline):
    model = Refund
    fk_name = "closure"
    readonly_fields = ("refund", "method", "status", "amount", "due_date", "check_number")
    fields = readonly_fields

    @admin.display(description="refund")
    def refund(self, refund):
        return link("admin:refunds_refund_change", refund.pk, str(refund.pk))

    @admin.display(description="amount")
    def amount(self, refund):
        return format_cents(refund.amount_cents)


def hold_window(closure) -> str:
    """Rule E5: the Direct Bill hold, and where the closure stands in it."""
    if not closure.direct_bill_hold_from:
        return ""
    window = f"{closure.direct_bill_hold_from} to {closure.direct_bill_hold_until}"
    if closure.direct_bill_outcome != Closure.DirectBillOutcome.HELD:
        return f"{window}: {closure.get_direct_bill_outcome_display().lower()}"
    today = business_date(timezone.now())
    if today < closure.direct_bill_hold_from:
        return f"{window}: held"
    if today <= closure.direct_bill_hold_until:
        return f"{window}: due for the final statement"
    return f"{window}: LATE, the final statement was due by {closure.direct_bill_hold_until}"


@admin.register(Closure)
class ClosureAdmin(IndexedSearch, ResendInHolderLanguage, ReadOnlyAdmin):
    holder_path = "account__holder"
    list_display = [
        "reference",
        "account",
        "holder",
        "holder_language",
        "reason",
        "closed_at",
        "refund",
        "direct_bill_outcome",
        "hold",
    ]
    list_select_related = ["account__holder"]
    list_only = [
        "reference",
        "account__number",
        "account__holder__first_name",
        "account__holder__last_name",
        "account__holder__email",
        "account__holder__language",
        "reason",
        "closed_at",
        "refund_cents",
        "direct_bill_outcome",
        "direct_bill_hold_from",
        "direct_bill_hold_until",
    ]
    list_filter = [
        "reason",
        "direct_bill_outcome",
        ("closed_at", date_range_filter("closed")),
    ]
    search_paths = SearchPaths(
        references=["reference"],
        account_numbers=["account__number"],
        emails=["account__holder__email"],
    )
    search_help_text = "Closure reference, account number or holder email"
    inlines = [RefundInline]
    # Every amount in dollars and every code in words (staff see what holders see).
    fields = [
        "reference",
        "account",
        "reason",
        "closed_at",
        "closed_by",
        "address",
        "address_confirmed_at",
        "balance_before",
        "deducted",
        "shortfall",
        "refund",
        "top_ups",
        "direct_bill_outcome",
        "hold",
        "statement",
        "debit_untouched",
        "stamps_forfeited",
        "sessions_voided",
        "subscriptions_cancelled",
        "confirmation_emailed_at",
        "history",
    ]
    readonly_fields = [
        "balance_before",
        "deducted",
        "shortfall",
        "refund",
        "top_ups",
        "debit_untouched",
        "hold",
        "statement",
        "history",
    ]

    @admin.display(description="holder")
    def holder(self, closure):
        return closure.account.holder.get_full_name() or closure.account.holder.email

    @admin.display(description="refund", ordering="refund_cents")
    def refund(self, closure):
        return format_cents(closure.refund_cents)

    @admin.display(description="balance before closure")
    def balance_before(self, closure):
        return format_cents(closure.balance_before_cents)

    @admin.display(description="unsettled charges deducted")
    def deducted(self, closure):
        return format_cents(closure.deducted_cents)

    @admin.display(description="shortfall recorded, not charged")
    def shortfall(self, closure):
        return format_cents(closure.shortfall_cents)

    @admin.display(description="Securus Debit left untouched")
    def debit_untouched(self, closure):
        return format_cents(closure.debit_untouched_cents)

    @admin.display(description="TextPay/AutoPay terminated")
    def top_ups(self, closure):
        return ", ".join(
            str(TopUpEnrolment.Kind(kind).label)
            for kind in closure.top_ups_terminated.split(",")
            if kind
        )

    @admin.display(description="Direct Bill hold (rule E5)")
    def hold(self, closure):
        return hold_window(closure)

    @admin.display(description="final statement")
    def statement(self, closure):
        return closure.final_statement_id and link(
            "admin:accounts_directbillstatement_change", closure.final_statement_id, ""
        )

    @admin.display(description="who did what, when and why")
    def history(self, closure):
        return audit_history(closure)
