"""Refund operations: held funds (rules N4, N5, B6), money that could not be refunded,
kept until the holder asks for it or it is remitted to a state as unclaimed property."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django_object_actions import DjangoObjectActions, action

from accounts.forms import AddressForm
from portal.admin_filters import date_range_filter
from portal.money import format_cents

from ..models import HeldFunds
from ..services.held_funds import (
    held_funds_claim,
    held_funds_record_disposition,
    held_funds_record_owner_notice,
)
from . import forms
from .base import FORM_PAGE, ReadOnlyAdmin, audit_history, form_action, link, posted


def describe(held: HeldFunds) -> str:
    """`held funds of CL-7KQ2-9XA4 ($42.50)`, the way staff talk about them."""
    return f"held funds of {held.closure.reference} ({format_cents(held.amount_cents)})"


@admin.register(HeldFunds)
class HeldFundsAdmin(DjangoObjectActions, ReadOnlyAdmin):
    list_display = [
        "closure_reference",
        "holder",
        "amount",
        "held_since",
        "reason",
        "status",
        "owner_notice_mailed_on",
        "remitted_on",
        "remitted_to_state",
        "report_reference",
    ]
    list_select_related = ["closure__account__holder"]
    list_filter = [
        "status",
        ("held_since", date_range_filter("held since")),
        "remitted_to_state",
    ]
    search_fields = [
        "closure__reference",
        "closure__account__holder__email",
        "closure__account__number",
    ]
    search_help_text = "Closure reference, holder email or account number"
    fields = [
        "closure_link",
        "account",
        "holder",
        "amount",
        "held_since",
        "reason",
        "status",
        "status_changed_at",
        "refund_link",
        "last_known_address",
        "owner_notice_mailed_on",
        "claimed_by_link",
        "remitted_on",
        "remitted_to_state",
        "report_reference",
        "history",
    ]
    readonly_fields = [
        "closure_link",
        "account",
        "holder",
        "amount",
        "refund_link",
        "last_known_address",
        "claimed_by_link",
        "history",
    ]
    change_actions = ["record_owner_notice", "record_disposition", "send_to_address"]

    # --- columns and read-only fields ---

    @admin.display(description="closure", ordering="closure__reference")
    def closure_reference(self, held):
        return held.closure.reference

    @admin.display(description="closure")
    def closure_link(self, held):
        return link("admin:refunds_closure_change", held.closure_id, held.closure.reference)

    @admin.display(description="account")
    def account(self, held):
        return held.closure.account.number

    @admin.display(description="holder")
    def holder(self, held):
        holder = held.closure.account.holder
        return holder.get_full_name() or holder.email

    @admin.display(description="amount", ordering="amount_cents")
    def amount(self, held):
        return format_cents(held.amount_cents)

    @admin.display(description="refund that could not be made")
    def refund_link(self, held):
        return link("admin:refunds_refund_change", held.refund_id)

    @admin.display(description="last known address (where the check went)")
    def last_known_address(self, held):
        return ", ".join(held.refund.address_lines())

    @admin.display(description="paid out by")
    def claimed_by_link(self, held):
        return held.claimed_by_refund_id and link(
            "admin:refunds_refund_change", held.claimed_by_refund_id
        )

    @admin.display(description="who did what, when and why")
    def history(self, held):
        return audit_history(held)

    # --- permissions: only Refund operations move held funds (SPEC §5) ---

    def has_move_permission(self, request):
        return request.user.has_perm("refunds.move_refund")

    def get_change_actions(self, request, object_id, form_url):
        if not self.has_move_permission(request):
            return []
        held = self.get_object(request, object_id)
        if held is None or held.status != HeldFunds.Status.HELD:
            return []
        return self.change_actions

    # --- buttons ---

    def _ask(self, request, held, *, form, title, run):
        """Show `form` for `held`; once it is valid, `run` it and go on."""
        if not self.has_move_permission(request):
            raise PermissionDenied
        back = reverse("admin:refunds_heldfunds_change", args=[held.pk])
        return form_action(
            self, request, form=form, run=run, title=title, objects=[describe(held)], back=back
        )

    @action(label="Record owner notice mailed", **FORM_PAGE)
    def record_owner_notice(self, request, held):
        """Rule B6: the owner is mailed a notice before the funds are reported."""

        def run(data):
            held_funds_record_owner_notice(
                held_funds=held, actor=request.user, mailed_on=data["mailed_on"]
            )
            back = reverse("admin:refunds_heldfunds_change", args=[held.pk])
            return (
                f"Owner notice mailed on {data['mailed_on']}: recorded for the {describe(held)}.",
                back,
            )

        form = forms.OwnerNoticeForm(posted(request))
        return self._ask(request, held, form=form, title="Record owner notice mailed", run=run)

    @action(label="Record final disposition", **FORM_PAGE)
    def record_disposition(self, request, held):
        """Rule N4: the funds were remitted to a state, on an unclaimed property report."""

        def run(data):
            held_funds_record_disposition(
                held_funds=held,
                actor=request.user,
                remitted_on=data["remitted_on"],
                state=data["state"],
                report_reference=data["report_reference"],
            )
            back = reverse("admin:refunds_heldfunds_change", args=[held.pk])
            return (
                f"The {describe(held)} are recorded as remitted to {data['state']} on "
                f"{data['remitted_on']}, report {data['report_reference']}.",
                back,
            )

        form = forms.DispositionForm(
            posted(request), initial={"state": held.closure.account.service_state}
        )
        return self._ask(request, held, form=form, title="Record final disposition", run=run)

    @action(label="Send to an address", **FORM_PAGE)
    def send_to_address(self, request, held):
        """Rule N5: the holder, on the phone with support, asks for the money: a new
        refund check to the address they give. Opens the new check, to be printed."""

        def run(data):
            check = held_funds_claim(held_funds=held, actor=request.user, address=data)
            return (
                f"A refund check for {format_cents(check.amount_cents)} to "
                f"{', '.join(check.address_lines())} pays out the {describe(held)}; "
                f"mail it by {check.due_date}.",
                reverse("admin:refunds_refund_change", args=[check.pk]),
            )

        form = AddressForm(posted(request))
        return self._ask(request, held, form=form, title="Send to an address", run=run)
