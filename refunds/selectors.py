"""Reads for the holder's pages, staff and exporters."""

import datetime as dt

from django.db.models import Q

from accounts.models import DirectBillStatement, LedgerEntry
from portal.money import cents_to_decimal

from .models import Closure, Refund
from .states import NOT_YET_SENT


def holder_records(account):
    """Rule B1: every deposit, call, refund and statement of the account, oldest first,
    as rows of (date, type, description, amount in dollars, status)."""
    advance_connect = getattr(account, "advance_connect", None)
    if advance_connect is not None:
        entries = LedgerEntry.objects.filter(advance_connect=advance_connect).order_by(
            "occurred_at", "id"
        )
        for entry in entries.iterator(chunk_size=2000):
            sign = 1 if entry.kind in LedgerEntry.CREDITS else -1
            if entry.kind == LedgerEntry.Kind.DEPOSIT:
                description = entry.get_method_display()
                if entry.card_last4:
                    description += f" ({entry.card_brand} {entry.card_last4})"
            elif entry.kind == LedgerEntry.Kind.CALL_CHARGE:
                description = f"Call to {entry.number_called}"
            else:
                description = entry.memo
            status = ""
            if entry.kind == LedgerEntry.Kind.CALL_CHARGE:
                status = "settled" if entry.settled_at else "pending"
            yield (
                entry.occurred_at.date().isoformat(),
                entry.get_kind_display(),
                description,
                cents_to_decimal(sign * entry.amount_cents),
                status,
            )
    direct_bill = getattr(account, "direct_bill", None)
    if direct_bill is not None:
        for statement in DirectBillStatement.objects.filter(direct_bill=direct_bill).order_by(
            "statement_date", "id"
        ):
            yield (
                statement.statement_date.isoformat(),
                "Direct Bill statement",
                f"Due {statement.due_date.isoformat()}",
                cents_to_decimal(statement.amount_cents),
                statement.get_status_display(),
            )
    for refund in Refund.objects.filter(closure__account=account).order_by("created_at", "id"):
        yield (
            refund.created_at.date().isoformat(),
            refund.get_method_display(),
            f"Due {refund.due_date.isoformat()}",
            cents_to_decimal(refund.amount_cents),
            refund.get_status_display(),
        )


def overdue_q(today: dt.date) -> Q:
    """SPEC §3: past its due date and not yet issued (card) or mailed (check)."""
    condition = Q(pk__in=[])
    for method, statuses in NOT_YET_SENT.items():
        condition |= Q(method=method, status__in=statuses)
    return condition & Q(due_date__lt=today)


def refund_is_overdue(*, method: str, status: str, due_date: dt.date, today: dt.date) -> bool:
    return due_date < today and status in NOT_YET_SENT[method]


def closure_for_status_lookup(*, reference: str, zip_code: str, last_name: str):
    """Rule B2: the closure only when reference, ZIP (first five digits, against the
    address confirmed at closure or any later one) and last name all match."""
    closure = (
        Closure.objects.select_related("account__holder", "address")
        .filter(reference=reference)
        .first()
    )
    if closure is None:
        return None
    zip5 = "".join(ch for ch in zip_code if ch.isdigit())[:5]
    zips = {
        z[:5]
        for z in closure.account.addresses.filter(created_at__gte=closure.closed_at).values_list(
            "zip_code", flat=True
        )
    }
    if closure.address is not None:
        zips.add(closure.address.zip_code[:5])
    surname = closure.account.holder.last_name.strip().casefold()
    if len(zip5) != 5 or zip5 not in zips or last_name.strip().casefold() != surname:
        return None
    return closure
