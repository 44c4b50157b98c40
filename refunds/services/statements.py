"""Final Direct Bill statements (SPEC E5, §4): issuing one after the hold, recording
payments, past due, written off.

Each write locks the statement, checks the move against `refunds.states`, saves and
writes its audit row in one transaction; a refused write raises `StatementRefused`
and changes nothing.
"""

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import DirectBill, DirectBillPayment, DirectBillStatement
from accounts.selectors import unbilled_cents, unbilled_charges
from portal.actors import SYSTEM, Actor, actor_user
from portal.audit import AuditAction, audit_event_open, audit_record
from portal.business_calendar import add_calendar_days, business_date
from portal.db import locked
from portal.errors import Refused
from portal.models import AuditEvent
from portal.money import format_cents

from ..models import Closure
from ..states import STATEMENT_OPEN, statement_can_move

T = DirectBillStatement.Status


class StatementRefused(Refused):
    """The statement cannot move as asked; nothing was changed."""


def statement_paid_cents(statement: DirectBillStatement) -> int:
    return statement.payments.aggregate(paid=Coalesce(Sum("amount_cents"), 0))["paid"]


def describe(statement: DirectBillStatement) -> str:
    """`final statement of 2026-12-07 for account 700000012 ($18.90)`."""
    kind = "final statement" if statement.is_final else "statement"
    return (
        f"{kind} of {statement.statement_date} for account "
        f"{statement.direct_bill.account.number} ({format_cents(statement.amount_cents)})"
    )


def _lock(statement: DirectBillStatement) -> DirectBillStatement:
    return locked(
        DirectBillStatement.objects.select_related("direct_bill__account"), pk=statement.pk
    )


def _label(status: str) -> str:
    return str(T(status).label).lower()


def _save_status(
    locked: DirectBillStatement,
    *,
    actor: Actor,
    target: str,
    at: dt.datetime,
    action: str,
    reason: str = "",
    after: dict[str, Any] | None = None,
) -> DirectBillStatement:
    if not statement_can_move(locked.status, target):
        raise StatementRefused(
            f"The {describe(locked)} is {_label(locked.status)}; it cannot become {_label(target)}."
        )
    before = {"status": locked.status}
    locked.status = target
    locked.save(update_fields=["status"])
    audit_record(
        actor=actor,
        action=action,
        target=locked,
        before=before,
        after={"status": target, **(after or {})},
        reason=reason,
        at=at,
    )
    return locked


def statement_record_payment(
    *, statement: DirectBillStatement, actor: Actor, amount_cents: int, paid_at: dt.datetime
) -> DirectBillStatement:
    """Staff record a payment (SPEC §4): `paid` once the whole amount is in, else
    `partially_paid` (a past due statement stays past due until paid). The same
    payment recorded twice (same amount and time: a double click) is kept once."""
    if not isinstance(amount_cents, int) or amount_cents <= 0:
        raise StatementRefused("A payment must be more than $0.00.")
    with transaction.atomic():
        locked = _lock(statement)
        if locked.payments.filter(amount_cents=amount_cents, paid_at=paid_at).exists():
            return locked
        if locked.status not in STATEMENT_OPEN:
            raise StatementRefused(
                f"The {describe(locked)} is {_label(locked.status)}; it takes no more payments."
            )
        paid_before = statement_paid_cents(locked)
        owed = locked.amount_cents - paid_before
        if amount_cents > owed:
            raise StatementRefused(
                f"{format_cents(amount_cents)} is more than the {format_cents(owed)} still "
                f"owed on the {describe(locked)}."
            )
        DirectBillPayment.objects.create(
            statement=locked,
            amount_cents=amount_cents,
            paid_at=paid_at,
            recorded_by=actor_user(actor),
        )
        paid = paid_before + amount_cents
        if paid == locked.amount_cents:
            target = T.PAID
        elif locked.status == T.PAST_DUE:
            target = T.PAST_DUE
        else:
            target = T.PARTIALLY_PAID
        before = {"status": locked.status, "paid_cents": paid_before}
        if target != locked.status:
            locked.status = target
            locked.save(update_fields=["status"])
        audit_record(
            actor=actor,
            action=AuditAction.STATEMENT_PAYMENT_RECORDED,
            target=locked,
            before=before,
            after={
                "status": target,
                "paid_cents": paid,
                "payment_cents": amount_cents,
                "paid_at": paid_at,
            },
        )
    return locked


def statement_mark_past_due(
    *, statement: DirectBillStatement, at: dt.datetime, actor: Actor = SYSTEM
) -> DirectBillStatement:
    """An unpaid statement is past due after its due date (SPEC §4)."""
    with transaction.atomic():
        locked = _lock(statement)
        if locked.status == T.PAST_DUE:
            return locked
        if locked.status in STATEMENT_OPEN and business_date(at) <= locked.due_date:
            raise StatementRefused(
                f"The {describe(locked)} is due on {locked.due_date}; it is past due from "
                f"{add_calendar_days(locked.due_date, 1)}."
            )
        return _save_status(
            locked, actor=actor, target=T.PAST_DUE, at=at, action=AuditAction.STATEMENT_PAST_DUE
        )


def _last_write_off_reason(statement: DirectBillStatement) -> str | None:
    event = AuditEvent.objects.filter(
        object_type=statement._meta.label_lower,
        object_id=str(statement.pk),
        action=AuditAction.STATEMENT_WRITTEN_OFF,
    ).last()
    if event is None:
        return None
    return audit_event_open(event)["reason"]


def statement_write_off(
    *, statement: DirectBillStatement, actor: Actor, reason: str, at: dt.datetime | None = None
) -> DirectBillStatement:
    """What is still owed will not be collected: → written off, with the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise StatementRefused("The reason for writing the statement off is required.")
    at = at or timezone.now()
    with transaction.atomic():
        locked = _lock(statement)
        if locked.status == T.WRITTEN_OFF and _last_write_off_reason(locked) == reason:
            return locked
        paid = statement_paid_cents(locked)
        return _save_status(
            locked,
            actor=actor,
            target=T.WRITTEN_OFF,
            at=at,
            action=AuditAction.STATEMENT_WRITTEN_OFF,
            reason=reason,
            after={"written_off_cents": locked.amount_cents - paid},
        )


def final_statement_issue(*, closure: Closure, at: dt.datetime) -> DirectBillStatement | None:
    """Rule E5: once the 7-10 day hold has passed, bill the closure's unbilled Direct
    Bill charges on a final statement, due 20 days after the statement date; with
    nothing outstanding, Direct Bill closes with no invoice (returns None). Safe to
    run again: a closure already settled returns its statement."""
    with transaction.atomic():
        closure = locked(
            Closure.objects.select_related("account", "final_statement"), pk=closure.pk
        )
        outcome = closure.direct_bill_outcome
        if outcome in (
            Closure.DirectBillOutcome.FINAL_STATEMENT,
            Closure.DirectBillOutcome.CLOSED_NO_INVOICE,
        ):
            return closure.final_statement
        if outcome != Closure.DirectBillOutcome.HELD:
            raise StatementRefused(f"Closure {closure.reference} has no Direct Bill to settle.")
        if closure.direct_bill_hold_from is None:  # a held Direct Bill has its hold days
            raise AssertionError(f"closure {closure.reference} is held with no hold days")
        today = business_date(at)
        if today < closure.direct_bill_hold_from:
            raise StatementRefused(
                f"Closure {closure.reference} is held until {closure.direct_bill_hold_from} "
                "so unbilled calls can clear (rule E5)."
            )
        direct_bill = locked(DirectBill, account=closure.account)
        unbilled = unbilled_charges(direct_bill)
        total = unbilled_cents(direct_bill)
        statement = None
        if total > 0:
            statement = DirectBillStatement.objects.create(
                direct_bill=direct_bill,
                statement_date=today,
                amount_cents=total,
                # rule E5: the invoice is due FINAL_STATEMENT_DUE_DAYS (20) after its date.
                due_date=add_calendar_days(today, settings.FINAL_STATEMENT_DUE_DAYS),
                is_final=True,
                status=T.ISSUED,
                created_at=at,
            )
            unbilled.update(statement=statement)
            closure.final_statement = statement
            closure.direct_bill_outcome = Closure.DirectBillOutcome.FINAL_STATEMENT
        else:
            closure.direct_bill_outcome = Closure.DirectBillOutcome.CLOSED_NO_INVOICE
        closure.save(update_fields=["final_statement", "direct_bill_outcome"])
        direct_bill.closed_at = at
        direct_bill.save(update_fields=["closed_at"])
        audit_record(
            actor=SYSTEM,
            action=AuditAction.CLOSURE_DIRECT_BILL_SETTLED,
            target=closure,
            before={"direct_bill_outcome": outcome},
            after={
                "direct_bill_outcome": closure.direct_bill_outcome,
                "final_statement": statement.pk if statement else None,
                "amount_cents": total,
                "due_date": statement.due_date if statement else None,
            },
            reason="Rule E5: the Direct Bill hold has passed",
            at=at,
        )
    return statement


def final_statement_context(statement: DirectBillStatement) -> dict:
    """What the statement email and the printable statement show: a bill the holder
    recognises (account number, statement date, the charges, amount due, due date)."""
    account = statement.direct_bill.account
    charges = list(statement.charges.order_by("occurred_at", "id"))
    paid = statement_paid_cents(statement)
    return {
        "statement": statement,
        "account": account,
        "holder": account.holder,
        "charges": charges,
        "period_start": charges[0].occurred_at if charges else None,
        "period_end": charges[-1].occurred_at if charges else None,
        "paid_cents": paid,
        "amount_due_cents": statement.amount_cents - paid,
    }
