"""New addresses given without signing in, awaiting confirmation (rule B3): Support sees
them; Refund operations approve one after a call with the holder, or cancel it."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django_object_actions import DjangoObjectActions, action

from portal.money import format_cents

from ..models import AddressChangeRequest
from ..services.claims import (
    address_change_request_approve,
    address_change_request_cancel,
)
from . import forms
from .base import FORM_PAGE, ReadOnlyAdmin, audit_history, form_action, link, posted


def describe(change: AddressChangeRequest) -> str:
    return (
        f"new address for {change.closure.reference} "
        f"({format_cents(change.money().amount_cents)}): "
        f"{', '.join(change.address_lines())}"
    )


@admin.register(AddressChangeRequest)
class AddressChangeRequestAdmin(DjangoObjectActions, ReadOnlyAdmin):
    list_display = ["closure_reference", "holder", "new_address", "status", "created_at"]
    list_select_related = ["closure__account__holder"]
    list_filter = ["status"]
    search_fields = ["closure__reference", "closure__account__holder__email"]
    search_help_text = "Closure reference or holder email"
    fields = [
        "closure_link",
        "holder",
        "for_what",
        "new_address",
        "status",
        "created_at",
        "emailed_at",
        "expires_at",
        "decided_at",
        "decided_by",
        "decision_reason",
        "new_check",
        "history",
    ]
    readonly_fields = ["closure_link", "holder", "for_what", "new_address", "new_check", "history"]
    change_actions = ["approve", "cancel"]

    @admin.display(description="closure", ordering="closure__reference")
    def closure_reference(self, change):
        return change.closure.reference

    @admin.display(description="closure")
    def closure_link(self, change):
        return link("admin:refunds_closure_change", change.closure_id, change.closure.reference)

    @admin.display(description="holder")
    def holder(self, change):
        holder = change.closure.account.holder
        return holder.get_full_name() or holder.email

    @admin.display(description="for")
    def for_what(self, change):
        if change.refund_id:
            return link("admin:refunds_refund_change", change.refund_id, "the returned check")
        return link("admin:refunds_heldfunds_change", change.held_funds_id, "the held funds")

    @admin.display(description="new address")
    def new_address(self, change):
        return ", ".join(change.address_lines())

    @admin.display(description="new check")
    def new_check(self, change):
        return change.new_refund_id and link("admin:refunds_refund_change", change.new_refund_id)

    @admin.display(description="who did what, when and why")
    def history(self, change):
        return audit_history(change)

    # --- only Refund operations decide (SPEC §5: they move money) ---

    def has_move_permission(self, request):
        return request.user.has_perm("refunds.move_refund")

    def get_change_actions(self, request, object_id, form_url):
        if not self.has_move_permission(request):
            return []
        change = self.get_object(request, object_id)
        if change is None or change.status != AddressChangeRequest.Status.AWAITING_CONFIRMATION:
            return []
        return self.change_actions

    def _decide(self, request, change, *, title, run, done):
        if not self.has_move_permission(request):
            raise PermissionDenied
        back = reverse("admin:refunds_addresschangerequest_change", args=[change.pk])

        def decide(data):
            run(change=change, actor=request.user, reason=data["reason"])
            return done, back

        return form_action(
            self,
            request,
            form=forms.ReasonForm(posted(request)),
            run=decide,
            title=title,
            objects=[describe(change)],
            back=back,
        )

    @action(label="Approve after a call", **FORM_PAGE)
    def approve(self, request, change):
        """Rule B3: the holder cannot confirm by email; on the phone, Refund operations
        made sure it is them and the address is right. The new check is made now."""
        return self._decide(
            request,
            change,
            title="Approve after a call",
            run=address_change_request_approve,
            done=f"Approved: a new check goes to {', '.join(change.address_lines())}.",
        )

    @action(label="Cancel: not the holder", **FORM_PAGE)
    def cancel(self, request, change):
        """The holder says the request was not theirs: it will never send money."""
        return self._decide(
            request,
            change,
            title="Cancel: not the holder",
            run=address_change_request_cancel,
            done="Cancelled: no check will be made for this request.",
        )
