"""Refund operations: final Direct Bill statements (SPEC E5, §4)."""

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django_object_actions import DjangoObjectActions, action

from accounts.models import DirectBillCharge, DirectBillPayment, DirectBillStatement
from portal.admin_filters import date_range_filter
from portal.business_calendar import business_zone
from portal.errors import Refused
from portal.money import format_cents

from ..models import Closure
from ..services.statements import (
    describe,
    final_statement_context,
    statement_mark_past_due,
    statement_record_payment,
    statement_write_off,
)
from ..states import STATEMENT_OPEN
from . import forms
from .base import (
    FORM_PAGE,
    POST_BUTTON,
    ReadOnlyAdmin,
    ReadOnlyTabularInline,
    action_page,
    apply_to_each,
    audit_history,
    bulk_hidden,
    form_action,
    link,
    posted,
)
from .search import IndexedSearch, SearchPaths

T = DirectBillStatement.Status


class PaymentInline(ReadOnlyTabularInline):
    model = DirectBillPayment
    fields = ["paid_at", "amount", "recorded_by"]
    readonly_fields = ["amount"]

    @admin.display(description="amount")
    def amount(self, payment):
        return format_cents(payment.amount_cents)


class ChargeInline(ReadOnlyTabularInline):
    model = DirectBillCharge
    fk_name = "statement"
    fields = ["occurred_at", "description", "number_called", "amount"]
    readonly_fields = ["amount"]

    @admin.display(description="amount")
    def amount(self, charge):
        return format_cents(charge.amount_cents)


@admin.register(DirectBillStatement)
class DirectBillStatementAdmin(IndexedSearch, DjangoObjectActions, ReadOnlyAdmin):
    # The date links to the statement: its name ("Final statement 2024-05-03") said again
    # what the date and final columns say.
    list_display = [
        "statement_date",
        "account",
        "holder",
        "due_date",
        "amount",
        "paid",
        "status",
        "is_final",
        "closure",
    ]
    list_select_related = ["direct_bill__account__holder"]
    list_only = [
        "is_final",
        "statement_date",
        "due_date",
        "amount_cents",
        "status",
        "direct_bill__account__number",
        "direct_bill__account__holder__first_name",
        "direct_bill__account__holder__last_name",
        "direct_bill__account__holder__email",
    ]
    list_filter = [
        "is_final",
        "status",
        ("statement_date", date_range_filter("statement date")),
        ("due_date", date_range_filter("due date")),
    ]
    search_paths = SearchPaths(
        account_numbers=["direct_bill__account__number"],
        emails=["direct_bill__account__holder__email"],
    )
    search_help_text = "Account number or holder email"
    fields = [
        "account",
        "holder",
        "closure",
        "is_final",
        "statement_date",
        "due_date",
        "amount",
        "paid",
        "status",
        "created_at",
        "history",
    ]
    readonly_fields = ["account", "holder", "closure", "amount", "paid", "history"]
    inlines = [ChargeInline, PaymentInline]
    change_actions = ["record_payment", "mark_past_due", "write_off", "print_statement"]
    actions = ["bulk_mark_past_due", "bulk_write_off"]

    def get_queryset(self, request):
        paid = (
            DirectBillPayment.objects.filter(statement=OuterRef("pk"))
            .values("statement")
            .annotate(total=Sum("amount_cents"))
            .values("total")
        )
        closure = Closure.objects.filter(final_statement=OuterRef("pk"))
        return (
            super()
            .get_queryset(request)
            .annotate(
                paid_cents=Coalesce(Subquery(paid), 0),
                closure_id=Subquery(closure.values("pk")[:1]),
                closure_reference=Subquery(closure.values("reference")[:1]),
            )
        )

    @admin.display(description="account", ordering="direct_bill__account__number")
    def account(self, statement):
        return statement.direct_bill.account.number

    @admin.display(description="holder")
    def holder(self, statement):
        holder = statement.direct_bill.account.holder
        return holder.get_full_name() or holder.email

    @admin.display(description="amount", ordering="amount_cents")
    def amount(self, statement):
        return format_cents(statement.amount_cents)

    @admin.display(description="paid", ordering="paid_cents")
    def paid(self, statement):
        return format_cents(statement.paid_cents)

    @admin.display(description="closure")
    def closure(self, statement):
        if statement.closure_id is None:
            return ""
        return link(
            "admin:refunds_closure_change", statement.closure_id, statement.closure_reference
        )

    @admin.display(description="who did what, when and why")
    def history(self, statement):
        return audit_history(statement)

    # --- permissions: only Refund operations move statements (SPEC §5) ---

    def has_move_permission(self, request):
        return request.user.has_perm("refunds.move_statement")

    def get_change_actions(self, request, object_id, form_url):
        if not self.has_move_permission(request):
            return ["print_statement"]
        statement = self.get_object(request, object_id)
        if statement is None or statement.status not in STATEMENT_OPEN:
            return ["print_statement"]
        return self.change_actions

    def _require_move(self, request):
        if not self.has_move_permission(request):
            raise PermissionDenied

    def _back(self, statement):
        return reverse("admin:accounts_directbillstatement_change", args=[statement.pk])

    def _form_page(self, request, statement, form, run, title, submit):
        return form_action(
            self,
            request,
            form=form,
            run=run,
            title=title,
            objects=[describe(statement)],
            back=self._back(statement),
            submit=submit,
        )

    @action(label="Record a payment", **FORM_PAGE)
    def record_payment(self, request, statement):
        self._require_move(request)
        form = forms.PaymentForm(
            posted(request),
            initial={"paid_at": timezone.localtime(timezone=business_zone()).replace(tzinfo=None)},
        )

        def run(data):
            paid = statement_record_payment(
                statement=statement,
                actor=request.user,
                amount_cents=data["amount"],
                paid_at=data["paid_at"],
            )
            return f"Payment recorded; the statement is {paid.get_status_display()}.", self._back(
                paid
            )

        return self._form_page(
            request, statement, form, run, "Record a payment", "Record the payment"
        )

    @action(label="Mark past due", **POST_BUTTON)
    def mark_past_due(self, request, statement):
        self._require_move(request)
        try:
            statement_mark_past_due(statement=statement, at=timezone.now(), actor=request.user)
        except Refused as refused:
            messages.error(request, str(refused))
        else:
            messages.success(request, "The statement is past due.")

    @action(label="Write off", **FORM_PAGE)
    def write_off(self, request, statement):
        self._require_move(request)

        def run(data):
            statement_write_off(statement=statement, actor=request.user, reason=data["reason"])
            return "The statement is written off.", self._back(statement)

        form = forms.ReasonForm(posted(request))
        return self._form_page(request, statement, form, run, "Write off", "Write it off")

    @action(label="Printable statement", methods=("GET",), button_type="a")
    def print_statement(self, request, statement):
        """The bill as the holder receives it, to print or to read out on the phone."""
        if not self.has_view_permission(request, statement):
            raise PermissionDenied
        context = {
            **final_statement_context(statement),
            "PORTAL_NAME": settings.PORTAL_NAME,
            "SUPPORT_PHONE": settings.SUPPORT_PHONE,
        }
        return TemplateResponse(request, "admin/backoffice/statement_print.html", context)

    @admin.action(description="Mark past due", permissions=["move"])
    def bulk_mark_past_due(self, request, queryset):
        apply_to_each(
            request,
            queryset,
            lambda statement: statement_mark_past_due(
                statement=statement, at=timezone.now(), actor=request.user
            ),
            "Past due: {done} statement(s).",
        )

    @admin.action(description="Write off (asks why)", permissions=["move"])
    def bulk_write_off(self, request, queryset):
        form = forms.ReasonForm(posted(request))
        if not (form.is_bound and form.is_valid()):
            return action_page(
                self,
                request,
                title="Write off",
                form=form,
                objects=[describe(statement) for statement in queryset],
                cancel_url=reverse("admin:accounts_directbillstatement_changelist"),
                hidden=bulk_hidden(request, queryset),
                submit="Write them off",
            )
        apply_to_each(
            request,
            queryset,
            lambda statement: statement_write_off(
                statement=statement, actor=request.user, reason=form.cleaned_data["reason"]
            ),
            "Written off: {done} statement(s).",
        )
