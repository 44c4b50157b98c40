"""Rule B7 in the back office: legal holds (Support places and lifts them) and the
erasure records, which hold no personal data."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.html import format_html_join
from django_object_actions import DjangoObjectActions, action

from ..models import ErasureRecord, LegalHold
from ..services.erasure import legal_hold_lift
from . import forms
from .base import ReadOnlyAdmin, form_action, posted


@admin.register(LegalHold)
class LegalHoldAdmin(DjangoObjectActions, ReadOnlyAdmin):
    list_display = ["account", "placed_at", "placed_by", "until", "lifted_at"]
    list_select_related = ["account", "placed_by"]
    search_fields = ["=account__number"]
    search_help_text = "Account number"
    fields = [
        "account",
        "reason",
        "until",
        "placed_at",
        "placed_by",
        "lifted_at",
        "lifted_by",
        "lift_reason",
    ]
    change_actions = ["lift"]

    @action(label="Lift the hold")
    def lift(self, request, hold):
        if not request.user.has_perm("refunds.place_legal_hold"):
            raise PermissionDenied
        back = reverse("admin:refunds_legalhold_change", args=[hold.pk])

        def run(data):
            legal_hold_lift(hold=hold, actor=request.user, **data)
            return "Hold lifted: the erasure days apply again.", back

        return form_action(
            self,
            request,
            form=forms.LiftHoldForm(posted(request)),
            run=run,
            title=f"Lift the legal hold on account {hold.account.number}",
            objects=[],
            back=back,
            submit="Lift the hold",
        )

    def get_change_actions(self, request, object_id, form_url):
        hold = self.get_object(request, object_id)
        can = request.user.has_perm("refunds.place_legal_hold")
        return ["lift"] if can and hold and hold.lifted_at is None else []


@admin.register(ErasureRecord)
class ErasureRecordAdmin(ReadOnlyAdmin):
    list_display = ["account", "stage", "erased_at", "money_final_at", "rule"]
    list_select_related = ["account"]
    list_filter = ["stage"]
    search_fields = ["=account__number"]
    search_help_text = "Account number"
    fields = ["account", "stage", "what", "money_final_at", "erased_at", "rule"]
    readonly_fields = ["what"]

    @admin.display(description="what was erased")
    def what(self, record):
        return format_html_join(
            "", "<div>{}</div>", ((category,) for category in record.categories)
        )
