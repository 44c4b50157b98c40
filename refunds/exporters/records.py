"""The exports auditors take (SPEC §5), one small class each."""

from django.db.models import BooleanField, Case, OuterRef, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, Concat
from django.utils import timezone

from accounts.models import DirectBillPayment, DirectBillStatement
from portal.audit import covering_seals
from portal.business_calendar import business_date
from portal.datakeys import KeyRing
from portal.models import AuditEvent

from ..models import Closure, ErasureRecord, Refund
from ..selectors import overdue_q
from .base import Column, Exporter


def _holder_name(prefix: str):
    return Concat(f"{prefix}first_name", Value(" "), f"{prefix}last_name")


class ClosuresExporter(Exporter):
    key = "closures"
    copy_csv = True
    label = "Closures"
    model = Closure
    date_field = "closed_at"
    columns = [
        Column("Closure reference", "reference"),
        Column("Account number", "account__number"),
        Column("Holder", "holder_name"),
        Column("Service state", "account__service_state"),
        Column("Reason", "reason"),
        Column("Closed (UTC)", "closed_at", "datetime"),
        Column("Closed by", "closed_by__email"),
        Column("Address confirmed (UTC)", "address_confirmed_at", "datetime"),
        Column("Balance before", "balance_before_cents", "money"),
        Column("Unsettled charges deducted", "deducted_cents", "money"),
        Column("Shortfall not charged", "shortfall_cents", "money"),
        Column("Refund", "refund_cents", "money"),
        Column("TextPay/AutoPay terminated", "top_ups_terminated"),
        Column("Direct Bill", "direct_bill_outcome"),
        Column("Direct Bill hold: not before", "direct_bill_hold_from", "date"),
        Column("Direct Bill hold: by", "direct_bill_hold_until", "date"),
        Column("Final statement id", "final_statement_id", "number"),
        Column("Securus Debit left untouched", "debit_untouched_cents", "money"),
        Column("Stamps forfeited", "stamps_forfeited", "number"),
        Column("Video sessions voided", "sessions_voided", "number"),
        Column("Video subscriptions cancelled", "subscriptions_cancelled", "number"),
        Column("Confirmation emailed (UTC)", "confirmation_emailed_at", "datetime"),
    ]

    def base_queryset(self):
        return Closure.objects.annotate(holder_name=_holder_name("account__holder__"))


class RefundsExporter(Exporter):
    key = "refunds"
    copy_csv = True
    label = "Refunds"
    model = Refund
    date_field = "created_at"
    columns = [
        Column("Refund id", "id", "number"),
        Column("Closure reference", "closure__reference"),
        Column("Account number", "closure__account__number"),
        Column("Service state", "closure__account__service_state"),
        Column("Method", "method"),
        Column("Status", "status"),
        Column("Amount", "amount_cents", "money"),
        Column("Created (UTC)", "created_at", "datetime"),
        Column("Due", "due_date", "date"),
        Column("Overdue", "overdue", "bool"),
        Column("Needs review", "needs_review", "bool"),
        Column("Status changed (UTC)", "status_changed_at", "datetime"),
        Column("Reason for the last change", "status_reason"),
        Column("Replaces refund id", "replaces_id", "number"),
        Column("Card brand", "card_brand"),
        Column("Card last 4", "card_last4"),
        Column("Processor reference", "processor_reference"),
        Column("Check number", "check_number"),
        Column("Payee", "payee_name"),
        Column("Issued", "issued_on", "date"),
        Column("Mailed", "mailed_on", "date"),
        Column("Cashed", "cleared_on", "date"),
        Column("Unclaimed property report", "escheat_report_reference"),
    ]

    def base_queryset(self):
        today = business_date(timezone.now())
        return Refund.objects.annotate(
            overdue=Case(
                When(overdue_q(today), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )


class CheckRegisterExporter(Exporter):
    """Every refund check with a number, by issue date: what a bank reconciles."""

    key = "check_register"
    copy_csv = True
    label = "Check register"
    model = Refund
    date_field = "issued_on"
    columns = [
        Column("Check number", "check_number"),
        Column("Payee", "payee_name"),
        Column("Address line 1", "address_line1"),
        Column("Address line 2", "address_line2"),
        Column("City", "address_city"),
        Column("State", "address_state"),
        Column("ZIP code", "address_zip"),
        Column("Amount", "amount_cents", "money"),
        Column("Issued", "issued_on", "date"),
        Column("Mailed", "mailed_on", "date"),
        Column("Cleared", "cleared_on", "date"),
        Column("Status", "status"),
        Column("Reason for the last change", "status_reason"),
        Column("Closure reference", "closure__reference"),
        Column("Replaces check", "replaces__check_number"),
        Column("Unclaimed property report", "escheat_report_reference"),
    ]

    def base_queryset(self):
        return Refund.objects.filter(method=Refund.Method.CHECK, check_number__isnull=False)


class FinalStatementsExporter(Exporter):
    key = "final_statements"
    copy_csv = True
    label = "Final statements"
    model = DirectBillStatement
    date_field = "statement_date"
    columns = [
        Column("Statement id", "id", "number"),
        Column("Account number", "direct_bill__account__number"),
        Column("Holder", "holder_name"),
        Column("Closure reference", "closure_reference"),
        Column("Statement date", "statement_date", "date"),
        Column("Due", "due_date", "date"),
        Column("Amount", "amount_cents", "money"),
        Column("Paid", "paid_cents", "money"),
        Column("Status", "status"),
    ]

    def base_queryset(self):
        paid = (
            DirectBillPayment.objects.filter(statement=OuterRef("pk"))
            .values("statement")
            .annotate(total=Sum("amount_cents"))
            .values("total")
        )
        reference = Closure.objects.filter(final_statement=OuterRef("pk")).values("reference")
        return DirectBillStatement.objects.filter(is_final=True).annotate(
            holder_name=_holder_name("direct_bill__account__holder__"),
            paid_cents=Coalesce(Subquery(paid), 0),
            closure_reference=Subquery(reference[:1]),
        )


class AuditTrailExporter(Exporter):
    key = "audit_trail"
    label = "Audit trail"
    model = AuditEvent
    date_field = "occurred_at"
    columns = [
        Column("Event id", "id", "number"),
        Column("When (UTC)", "occurred_at", "datetime"),
        Column("Who", "actor_label"),
        Column("Action", "action"),
        Column("Object type", "object_type"),
        Column("Object id", "object_id"),
        Column("Object", "object_repr"),
        Column("Before", "before", "json"),
        Column("After", "after", "json"),
        Column("Reason", "reason"),
        Column("Hash", "hash"),
        Column("Key id", "key_id"),
        # SPEC §5: the seal that links the event into the chain (empty while it awaits one).
        Column("Seal", "seal_id", "number"),
    ]

    def base_queryset(self):
        return AuditEvent.objects.annotate(
            seal_id=Subquery(covering_seals(OuterRef("pk")).values("pk"))
        )

    def values(self, queryset):
        """rule B7: sealed values opened while the holder's data key exists, "[erased]"
        after; the hashes are of what is stored, so the chain still checks out."""
        keyring = KeyRing()
        sealed = {
            index: column.kind == "json"
            for index, column in enumerate(self.columns)
            if column.path in ("object_repr", "before", "after", "reason")
        }
        for row in super().values(queryset):
            yield tuple(
                (keyring.open_values(value) if sealed[i] else keyring.open(value))
                if i in sealed
                else value
                for i, value in enumerate(row)
            )


class ErasureRecordsExporter(Exporter):
    """Rule B7: proof of each erasure stage, for the auditor; no personal data."""

    key = "erasures"
    label = "Erasure records"
    model = ErasureRecord
    date_field = "erased_at"
    columns = [
        Column("Account number", "account__number"),
        Column("Stage", "stage"),
        Column("What was erased", "categories", "json"),
        Column("Money final (UTC)", "money_final_at", "datetime"),
        Column("Erased (UTC)", "erased_at", "datetime"),
        Column("Rule", "rule"),
    ]
