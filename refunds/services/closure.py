"""Closing an account: the plan shown to the holder (D1) and the closure itself (E1-E9).

The preview and the closure call the same `closure_plan`, so what the holder is told and
what happens cannot disagree.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import (
    CustomerAccount,
    LedgerEntry,
    MailingAddress,
    PurchaseMethod,
    StampEntry,
    TopUpEnrolment,
    VideoSession,
    VideoSubscription,
)
from accounts.selectors import (
    UnsettledByAge,
    advance_connect_summary,
    current_address,
    future_video_sessions,
    stamps_balance,
    unbilled_cents,
    unsettled_by_age,
)
from accounts.services import ledger_charges_settle, ledger_entries_post
from portal.actors import SYSTEM, Actor, actor_user
from portal.audit import AuditAction, audit_record
from portal.business_calendar import add_business_days, add_calendar_days, business_date
from portal.db import locked
from portal.errors import Refused

from ..models import Closure, Refund, new_closure_reference
from ..selectors import check_reason
from ..tasks import card_refund_submit_task, closure_confirmation_send

CHECK_METHODS = {PurchaseMethod.WESTERN_UNION, PurchaseMethod.MONEYGRAM, PurchaseMethod.MAIL}


class ClosureRefused(Refused):
    """The account cannot be closed as asked; nothing was changed."""


@dataclass
class RefundPlan:
    method: str  # Refund.Method
    amount_cents: int
    due_date: dt.date
    needs_review: bool = False
    card_brand: str = ""
    card_last4: str = ""
    card_token: str = ""

    @property
    def is_card(self) -> bool:
        return self.method == Refund.Method.CARD


@dataclass
class ClosurePlan:
    """What closing `account` at `at` would do, service by service."""

    account: CustomerAccount
    at: dt.datetime
    has_advance_connect: bool = False
    balance_cents: int = 0
    unsettled_cents: int = 0
    unsettled_count: int = 0
    deducted_cents: int = 0
    unsettled_by_age: UnsettledByAge | None = None
    shortfall_cents: int = 0
    refund: RefundPlan | None = None
    last_deposit: LedgerEntry | None = None
    top_ups: list = field(default_factory=list)
    has_direct_bill: bool = False
    direct_bill_unbilled_cents: int = 0
    direct_bill_hold_from: dt.date | None = None
    direct_bill_hold_until: dt.date | None = None
    debit_accounts: list = field(default_factory=list)
    has_emessaging: bool = False
    stamps: int = 0
    future_sessions: list = field(default_factory=list)
    active_subscriptions: list = field(default_factory=list)

    @property
    def debit_cents(self) -> int:
        return sum(debit.balance_cents for debit in self.debit_accounts)

    @property
    def needs_video_warning(self) -> bool:
        return bool(self.future_sessions or self.active_subscriptions)

    @property
    def has_non_refundable(self) -> bool:
        return bool(self.debit_accounts or self.stamps)

    @property
    def refund_by_check(self) -> bool:
        return self.refund is not None and self.refund.method == Refund.Method.CHECK

    @property
    def check_reason(self) -> str:
        return check_reason(self.last_deposit.method if self.last_deposit else "")


def refund_plan_for(
    *, last_deposit: LedgerEntry | None, amount_cents: int, at: dt.datetime
) -> RefundPlan:
    """Rule E4: refund by the method of the most recent deposit.

    Online card: to the card last used, due within 3 business days. Western Union,
    MoneyGram or mail: a check mailed within 21 days. No deposit or an unknown method:
    a check, flagged for staff review (decision).
    """
    today = business_date(at)
    if last_deposit is not None and last_deposit.method == PurchaseMethod.ONLINE_CARD:
        return RefundPlan(
            method=Refund.Method.CARD,
            amount_cents=amount_cents,
            due_date=add_business_days(today, settings.CARD_REFUND_BUSINESS_DAYS),
            card_brand=last_deposit.card_brand,
            card_last4=last_deposit.card_last4,
            card_token=last_deposit.processor_token,
        )
    return RefundPlan(
        method=Refund.Method.CHECK,
        amount_cents=amount_cents,
        due_date=add_calendar_days(today, settings.CHECK_MAILED_WITHIN_DAYS),
        needs_review=last_deposit is None or last_deposit.method not in CHECK_METHODS,
    )


def closure_plan(*, account: CustomerAccount, at: dt.datetime) -> ClosurePlan:
    """Rules D1, E3-E8 as a plan: the same numbers the closure will use."""
    plan = ClosurePlan(account=account, at=at)
    advance_connect = getattr(account, "advance_connect", None)
    if advance_connect is not None:
        summary = advance_connect_summary(advance_connect)
        plan.has_advance_connect = True
        plan.balance_cents = summary.balance_cents
        plan.unsettled_cents = summary.unsettled_cents
        plan.unsettled_count = summary.unsettled_count
        plan.last_deposit = summary.last_deposit
        # rule E3: every unsettled charge is deducted first (those of the last 24 hours,
        # and older ones too, a decision); the refund never goes below zero and a
        # shortfall is recorded, never charged.
        plan.deducted_cents = summary.unsettled_cents
        if summary.unsettled_count:
            plan.unsettled_by_age = unsettled_by_age(advance_connect, at)
        remaining = summary.balance_cents - summary.unsettled_cents
        plan.shortfall_cents = max(0, -remaining)
        if remaining > 0:
            plan.refund = refund_plan_for(
                last_deposit=summary.last_deposit, amount_cents=remaining, at=at
            )
    plan.top_ups = list(account.top_ups.filter(terminated_at__isnull=True).order_by("kind"))
    direct_bill = getattr(account, "direct_bill", None)
    if direct_bill is not None and direct_bill.closed_at is None:
        today = business_date(at)
        plan.has_direct_bill = True
        plan.direct_bill_unbilled_cents = unbilled_cents(direct_bill)
        # rule E5: held 7 to 10 calendar days so unbilled calls and charges clear.
        plan.direct_bill_hold_from = add_calendar_days(today, settings.DIRECT_BILL_HOLD_FROM_DAYS)
        plan.direct_bill_hold_until = add_calendar_days(today, settings.DIRECT_BILL_HOLD_UNTIL_DAYS)
    plan.debit_accounts = list(account.debit_accounts.filter(balance_cents__gt=0))
    emessaging = getattr(account, "emessaging", None)
    if emessaging is not None:
        plan.has_emessaging = True
        plan.stamps = stamps_balance(emessaging)
    plan.future_sessions = list(future_video_sessions(account, at))
    plan.active_subscriptions = list(
        account.video_subscriptions.filter(status=VideoSubscription.Status.ACTIVE)
    )
    return plan


def _payee(account: CustomerAccount) -> str:
    holder = account.holder
    return holder.get_full_name() or holder.email


def closure_confirm(
    *,
    account: CustomerAccount,
    actor: Actor,
    at: dt.datetime | None = None,
    reason: str = Closure.Reason.HOLDER_REQUEST,
    address: MailingAddress | None = None,
    reference: str | None = None,
) -> Closure:
    """Close the account with every effect of E1-E9 in one transaction, exactly once.
    `reference` fixes the closure reference (the demo prints one); a new one otherwise.

    The account row is locked first, so concurrent confirmations queue up; whoever comes
    second finds the closure already made and gets that same closure back (D5).
    """
    at = at or timezone.now()
    with transaction.atomic():
        account = locked(CustomerAccount.objects.select_related("holder"), pk=account.pk)
        existing = Closure.objects.filter(account=account).first()
        if existing is not None:
            return existing
        if not account.is_open:
            raise ClosureRefused(f"Account {account.number} is already closed.", account=account.pk)
        address = address or current_address(account)
        if address is not None and address.account_id != account.pk:
            raise ClosureRefused("That address is not on this account.", account=account.pk)

        plan = closure_plan(account=account, at=at)
        closure = Closure.objects.create(
            reference=reference or new_closure_reference(),
            account=account,
            reason=reason,
            closed_at=at,
            closed_by=actor_user(actor),
            address=address,
            address_confirmed_at=address.confirmed_at if address else None,
            balance_before_cents=plan.balance_cents,
            deducted_cents=plan.deducted_cents,
            shortfall_cents=plan.shortfall_cents,
            refund_cents=plan.refund.amount_cents if plan.refund else 0,
            top_ups_terminated=",".join(top_up.kind for top_up in plan.top_ups),
            direct_bill_outcome=(Closure.DirectBillOutcome.HELD if plan.has_direct_bill else ""),
            direct_bill_hold_from=plan.direct_bill_hold_from,
            direct_bill_hold_until=plan.direct_bill_hold_until,
            debit_untouched_cents=plan.debit_cents,  # rule E6: recorded, never moved
            stamps_forfeited=plan.stamps,
            sessions_voided=len(plan.future_sessions),
            subscriptions_cancelled=len(plan.active_subscriptions),
        )
        refund = _settle_and_refund(closure, plan, address, at)
        _end_services(closure, plan, at)
        _close_account(account, at)
        audit_record(
            actor=actor,
            action=AuditAction.CLOSURE_CONFIRMED,
            target=closure,
            before={"account_status": CustomerAccount.Status.OPEN},
            after=closure_summary(closure),
            reason=closure.get_reason_display(),
            at=at,
        )
        # rule E9: the email goes after commit; a failure to send never undoes this.
        transaction.on_commit(lambda: closure_confirmation_send.enqueue(closure_id=closure.pk))
        if refund is not None and refund.method == Refund.Method.CARD:
            transaction.on_commit(lambda: card_refund_submit_task.enqueue(refund_id=refund.pk))
    return closure


def _settle_and_refund(
    closure: Closure, plan: ClosurePlan, address: MailingAddress | None, at: dt.datetime
) -> Refund | None:
    """Rules E3, E4: deduct, record any shortfall, create the refund (or None)."""
    if not plan.has_advance_connect:
        return None
    advance_connect = closure.account.advance_connect
    # rule E3: deduct the unsettled charges before anything is refunded.
    ledger_charges_settle(advance_connect=advance_connect, at=at)
    if plan.shortfall_cents:
        ledger_entries_post(
            entries=[
                LedgerEntry(
                    advance_connect=advance_connect,
                    kind=LedgerEntry.Kind.SHORTFALL,
                    amount_cents=plan.shortfall_cents,
                    occurred_at=at,
                    memo=f"Shortfall at closure {closure.reference}, not charged",
                )
            ]
        )
    if plan.refund is None:
        return None
    # rule E4 (B4: no fee is ever taken; the refund is the whole remaining balance).
    ledger_entries_post(
        entries=[
            LedgerEntry(
                advance_connect=advance_connect,
                kind=LedgerEntry.Kind.REFUND,
                amount_cents=plan.refund.amount_cents,
                occurred_at=at,
                memo=f"Refund for closure {closure.reference}",
            )
        ]
    )
    refund = Refund(
        closure=closure,
        method=plan.refund.method,
        amount_cents=plan.refund.amount_cents,
        created_at=at,
        status_changed_at=at,
        due_date=plan.refund.due_date,
        needs_review=plan.refund.needs_review,
        card_brand=plan.refund.card_brand,
        card_last4=plan.refund.card_last4,
        card_token=plan.refund.card_token,
        payee_name=_payee(closure.account),
    )
    if address is not None:
        refund.address_line1 = address.line1
        refund.address_line2 = address.line2
        refund.address_city = address.city
        refund.address_state = address.state
        refund.address_zip = address.zip_code
    refund.save()
    audit_record(
        actor=SYSTEM,
        action=AuditAction.REFUND_CREATED,
        target=refund,
        after={
            "method": refund.method,
            "amount_cents": refund.amount_cents,
            "due_date": refund.due_date,
            "status": refund.status,
            "needs_review": refund.needs_review,
        },
        reason=f"Closure {closure.reference}",
        at=at,
    )
    return refund


def _end_services(closure: Closure, plan: ClosurePlan, at: dt.datetime) -> None:
    account = closure.account
    # rule E2: TextPay and AutoPay stop at once.
    TopUpEnrolment.objects.filter(account=account, terminated_at__isnull=True).update(
        terminated_at=at
    )
    # rule E7: remaining eMessaging stamps are forfeited, with their count.
    if plan.stamps > 0:
        StampEntry.objects.create(
            emessaging=account.emessaging,
            kind=StampEntry.Kind.FORFEIT,
            stamps=plan.stamps,
            occurred_at=at,
        )
    # rule E8: future sessions voided, subscriptions cancelled, no refund.
    VideoSession.objects.filter(pk__in=[s.pk for s in plan.future_sessions]).update(
        status=VideoSession.Status.VOIDED, status_changed_at=at
    )
    VideoSubscription.objects.filter(pk__in=[s.pk for s in plan.active_subscriptions]).update(
        status=VideoSubscription.Status.CANCELLED, cancelled_at=at
    )


def _close_account(account: CustomerAccount, at: dt.datetime) -> None:
    """Rule E1: the account is closed and the holder can no longer sign in; every
    session of theirs stops working because the authentication backend refuses
    inactive users."""
    account.status = CustomerAccount.Status.CLOSED
    account.closed_at = at
    account.save(update_fields=["status", "closed_at"])
    holder = account.holder
    holder.is_active = False
    holder.save(update_fields=["is_active"])


def closure_summary(closure: Closure) -> dict:
    return {
        "reference": closure.reference,
        "reason": closure.reason,
        "balance_before_cents": closure.balance_before_cents,
        "deducted_cents": closure.deducted_cents,
        "shortfall_cents": closure.shortfall_cents,
        "refund_cents": closure.refund_cents,
        "top_ups_terminated": closure.top_ups_terminated,
        "direct_bill_hold": [closure.direct_bill_hold_from, closure.direct_bill_hold_until],
        "debit_untouched_cents": closure.debit_untouched_cents,
        "stamps_forfeited": closure.stamps_forfeited,
        "sessions_voided": closure.sessions_voided,
        "subscriptions_cancelled": closure.subscriptions_cancelled,
        "address_id": closure.address_id,
    }
