"""Closing an account: the plan shown to the holder (D1) and the closure itself (E1-E9).

The preview and the closure call the same `closure_plan`, so what the holder is told and
what happens cannot disagree.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import (
    CustomerAccount,
    DirectBill,
    EMessaging,
    LedgerEntry,
    MailingAddress,
    PurchaseMethod,
    SecurusDebit,
    StampEntry,
    TopUpEnrolment,
    User,
    VideoSession,
    VideoSubscription,
)
from accounts.selectors import (
    UnsettledByAge,
    advance_connect_summaries,
    current_address,
    current_addresses,
    future_video_sessions_of,
    may_have,
    stamps_balances,
    unbilled_cents_of,
    unsettled_by_age_of,
)
from accounts.services import ledger_charges_settle_many, ledger_entries_post
from portal.actors import SYSTEM, Actor, actor_user
from portal.audit import AuditAction, AuditEntry, audit_records
from portal.business_calendar import add_business_days, add_calendar_days, business_date
from portal.db import bulk_insert, locked
from portal.errors import Refused

from ..models import Closure, Refund, new_closure_reference
from ..selectors import check_reason
from ..tasks import card_refund_submit_many, closure_confirmation_send_many

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
    advance_connect_id: int | None = None
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
    emessaging_id: int | None = None
    stamps: int = 0
    future_sessions: list = field(default_factory=list)
    active_subscriptions: list = field(default_factory=list)

    @property
    def has_emessaging(self) -> bool:
        return self.emessaging_id is not None

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
    return closure_plans([account], at=at)[account.pk]


def closure_plans(
    accounts: Sequence[CustomerAccount], *, at: dt.datetime
) -> dict[int, ClosurePlan]:
    """`closure_plan` of each account, by account id, read in a fixed number of queries
    however many accounts there are, and none for a service no account has: accounts read
    by `account_for_holder(..., with_lists=True)` say which they have (see `may_have`)."""

    def having(service: str) -> list[int]:
        return [account.pk for account in accounts if may_have(account, service)]

    plans = {account.pk: ClosurePlan(account=account, at=at) for account in accounts}
    prepaid = advance_connect_summaries(having("advance_connect"))
    ages = unsettled_by_age_of([pk for pk, kept in prepaid.values() if kept.unsettled_count], at)
    for account_id, (advance_connect_id, summary) in prepaid.items():
        plan = plans[account_id]
        plan.has_advance_connect = True
        plan.advance_connect_id = advance_connect_id
        plan.balance_cents = summary.balance_cents
        plan.unsettled_cents = summary.unsettled_cents
        plan.unsettled_count = summary.unsettled_count
        plan.last_deposit = summary.last_deposit
        # rule E3: every unsettled charge is deducted first (those of the last 24 hours,
        # and older ones too, a decision); the refund never goes below zero and a
        # shortfall is recorded, never charged.
        plan.deducted_cents = summary.unsettled_cents
        if summary.unsettled_count:
            plan.unsettled_by_age = ages[advance_connect_id]
        remaining = summary.balance_cents - summary.unsettled_cents
        plan.shortfall_cents = max(0, -remaining)
        if remaining > 0:
            plan.refund = refund_plan_for(
                last_deposit=summary.last_deposit, amount_cents=remaining, at=at
            )
    if ids := having("has_top_ups"):
        top_ups = TopUpEnrolment.objects.filter(account_id__in=ids, terminated_at__isnull=True)
        for top_up in top_ups.order_by("account_id", "kind"):
            plans[top_up.account_id].top_ups.append(top_up)
    direct_bills = {}
    if ids := having("direct_bill"):
        open_bills = DirectBill.objects.filter(account_id__in=ids, closed_at__isnull=True)
        direct_bills = dict(open_bills.values_list("account_id", "pk"))
    unbilled = unbilled_cents_of(list(direct_bills.values()))
    today = business_date(at)
    for account_id, direct_bill_id in direct_bills.items():
        plan = plans[account_id]
        plan.has_direct_bill = True
        plan.direct_bill_unbilled_cents = unbilled[direct_bill_id]
        # rule E5: held 7 to 10 calendar days so unbilled calls and charges clear.
        plan.direct_bill_hold_from = add_calendar_days(today, settings.DIRECT_BILL_HOLD_FROM_DAYS)
        plan.direct_bill_hold_until = add_calendar_days(today, settings.DIRECT_BILL_HOLD_UNTIL_DAYS)
    if ids := having("has_debit_accounts"):
        debits = SecurusDebit.objects.filter(account_id__in=ids, balance_cents__gt=0)
        for debit in debits.order_by("account_id", "id"):
            plans[debit.account_id].debit_accounts.append(debit)
    emessaging = {}
    if ids := having("emessaging"):
        emessaging = dict(
            EMessaging.objects.filter(account_id__in=ids).values_list("account_id", "pk")
        )
    stamps = stamps_balances(list(emessaging.values()))
    for account_id, emessaging_id in emessaging.items():
        plans[account_id].emessaging_id = emessaging_id
        plans[account_id].stamps = stamps[emessaging_id]
    if ids := having("has_video_sessions"):
        for session in future_video_sessions_of(ids, at):
            plans[session.account_id].future_sessions.append(session)
    if ids := having("has_video_subscriptions"):
        subscriptions = VideoSubscription.objects.filter(
            account_id__in=ids, status=VideoSubscription.Status.ACTIVE
        )
        for subscription in subscriptions.order_by("account_id", "id"):
            plans[subscription.account_id].active_subscriptions.append(subscription)
    return plans


def _payee(account: CustomerAccount) -> str:
    holder = account.holder
    return holder.get_full_name() or holder.email


@dataclass(frozen=True)
class _Order:
    """An account to close, locked and open, with the address its refund check goes to."""

    account: CustomerAccount
    address: MailingAddress | None
    reference: str


def free_closure_references(count: int) -> list[str]:
    """`count` new closure references, different from each other and from every
    closure's. Drawn at random from 31^8 (about 850 billion), at ten million closures one
    in about 85,000 is taken, one sweep batch of 1,000 in 85: without this, that holder's
    confirmation or the whole batch would fail on the unique index."""
    references: set[str] = set()
    while len(references) < count:
        drawn = {new_closure_reference() for _ in range(count - len(references))} - references
        taken = Closure.objects.filter(reference__in=drawn).values_list("reference", flat=True)
        references |= drawn - set(taken)
    return list(references)


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
        order = _Order(account, address, reference or free_closure_references(1)[0])
        [closure] = _closures_make([order], actor=actor, at=at, reason=reason)
    return closure


def closures_confirm(
    accounts: Sequence[CustomerAccount], *, actor: Actor, at: dt.datetime, reason: str
) -> list[Closure]:
    """Close many accounts at once (the inactivity sweep's batches), each exactly as
    `closure_confirm` closes it alone with its address on record: the same rows, numbers
    and audit events (E1-E9), written in bulk in one transaction. The accounts are
    locked in id order; any already closed is left out, so each is closed once. The
    instances are used as given, with their holders (read them in the transaction, as
    the sweep does). Returns the new closures, in account id order."""
    with transaction.atomic():
        still_open = set(
            CustomerAccount.objects.select_for_update()
            .filter(pk__in=[account.pk for account in accounts], status=CustomerAccount.Status.OPEN)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        by_id = {account.pk: account for account in accounts if account.pk in still_open}
        closing = [by_id[pk] for pk in sorted(by_id)]
        if not closing:
            return []
        addresses = current_addresses([account.pk for account in closing])
        references = free_closure_references(len(closing))
        orders = [
            _Order(account, addresses.get(account.pk), reference)
            for account, reference in zip(closing, references, strict=True)
        ]
        return _closures_make(orders, actor=actor, at=at, reason=reason)


def _closures_make(
    orders: list[_Order], *, actor: Actor, at: dt.datetime, reason: str
) -> list[Closure]:
    """The closures of open accounts the caller has locked, in its transaction: each
    account's rows are those closing it alone makes, written for all in bulk."""
    plans = closure_plans([order.account for order in orders], at=at)
    closures = bulk_insert(
        [
            _closure_row(order, plans[order.account.pk], actor=actor, at=at, reason=reason)
            for order in orders
        ]
    )
    refunds = _settle_and_refund(closures, plans, at)
    _end_services(closures, plans, at)
    _close_account([order.account for order in orders], at)
    # The batch's one reason, in words once: each `get_reason_display` builds the field's
    # choices and translates.
    reason_words = closures[0].get_reason_display()
    audit_records(
        [
            entry
            for closure in closures
            for entry in _audit_entries(
                closure, refunds.get(closure.pk), actor=actor, at=at, reason_words=reason_words
            )
        ]
    )
    # rule E9: the emails go after commit, one task per batch; a failure to send never
    # undoes this.
    closure_ids = [closure.pk for closure in closures]
    transaction.on_commit(lambda: closure_confirmation_send_many.enqueue(closure_ids=closure_ids))
    card_ids = [refund.pk for refund in refunds.values() if refund.method == Refund.Method.CARD]
    if card_ids:
        transaction.on_commit(lambda: card_refund_submit_many.enqueue(refund_ids=card_ids))
    return closures


def _closure_row(
    order: _Order, plan: ClosurePlan, *, actor: Actor, at: dt.datetime, reason: str
) -> Closure:
    address = order.address
    return Closure(
        reference=order.reference,
        account=order.account,
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


def _settle_and_refund(
    closures: list[Closure], plans: dict[int, ClosurePlan], at: dt.datetime
) -> dict[int, Refund]:
    """Rules E3, E4: deduct, record any shortfall, create the refunds (by closure id)."""
    prepaid: list[tuple[Closure, ClosurePlan, int]] = []
    for closure in closures:
        plan = plans[closure.account_id]
        if plan.advance_connect_id is not None:
            prepaid.append((closure, plan, plan.advance_connect_id))
    if not prepaid:
        return {}
    # rule E3: deduct the unsettled charges before anything is refunded.
    ledger_charges_settle_many(advance_connect_ids=[pk for _, _, pk in prepaid], at=at)
    entries = []
    refunds = {}
    for closure, plan, advance_connect_id in prepaid:
        if plan.shortfall_cents:
            entries.append(
                LedgerEntry(
                    advance_connect_id=advance_connect_id,
                    kind=LedgerEntry.Kind.SHORTFALL,
                    amount_cents=plan.shortfall_cents,
                    occurred_at=at,
                    memo=f"Shortfall at closure {closure.reference}, not charged",
                )
            )
        if plan.refund is not None:
            # rule E4 (B4: no fee is ever taken; the refund is the whole remaining balance).
            entries.append(
                LedgerEntry(
                    advance_connect_id=advance_connect_id,
                    kind=LedgerEntry.Kind.REFUND,
                    amount_cents=plan.refund.amount_cents,
                    occurred_at=at,
                    memo=f"Refund for closure {closure.reference}",
                )
            )
            refunds[closure.pk] = _refund_row(closure, plan.refund, at)
    if entries:
        ledger_entries_post(entries=entries)
    bulk_insert(list(refunds.values()))
    return refunds


def _refund_row(closure: Closure, plan: RefundPlan, at: dt.datetime) -> Refund:
    refund = Refund(
        closure=closure,
        method=plan.method,
        amount_cents=plan.amount_cents,
        created_at=at,
        status_changed_at=at,
        due_date=plan.due_date,
        needs_review=plan.needs_review,
        card_brand=plan.card_brand,
        card_last4=plan.card_last4,
        card_token=plan.card_token,
        payee_name=_payee(closure.account),
    )
    address = closure.address
    if address is not None:
        refund.address_line1 = address.line1
        refund.address_line2 = address.line2
        refund.address_city = address.city
        refund.address_state = address.state
        refund.address_zip = address.zip_code
    return refund


def _end_services(closures: list[Closure], plans: dict[int, ClosurePlan], at: dt.datetime) -> None:
    account_ids = [closure.account_id for closure in closures]
    # rule E2: TextPay and AutoPay stop at once.
    TopUpEnrolment.objects.filter(account_id__in=account_ids, terminated_at__isnull=True).update(
        terminated_at=at
    )
    # rule E7: remaining eMessaging stamps are forfeited, with their count.
    forfeits = []
    for pk in account_ids:
        plan = plans[pk]
        if plan.emessaging_id is not None and plan.stamps > 0:
            forfeits.append(
                StampEntry(
                    emessaging_id=plan.emessaging_id,
                    kind=StampEntry.Kind.FORFEIT,
                    stamps=plan.stamps,
                    occurred_at=at,
                )
            )
    bulk_insert(forfeits)
    # rule E8: future sessions voided, subscriptions cancelled, no refund.
    sessions = [s.pk for pk in account_ids for s in plans[pk].future_sessions]
    VideoSession.objects.filter(pk__in=sessions).update(
        status=VideoSession.Status.VOIDED, status_changed_at=at
    )
    subscriptions = [s.pk for pk in account_ids for s in plans[pk].active_subscriptions]
    VideoSubscription.objects.filter(pk__in=subscriptions).update(
        status=VideoSubscription.Status.CANCELLED, cancelled_at=at
    )


def _close_account(accounts: list[CustomerAccount], at: dt.datetime) -> None:
    """Rule E1: the accounts are closed and their holders can no longer sign in; every
    session of theirs stops working because the authentication backend refuses
    inactive users."""
    CustomerAccount.objects.filter(pk__in=[account.pk for account in accounts]).update(
        status=CustomerAccount.Status.CLOSED, closed_at=at
    )
    User.objects.filter(pk__in=[account.holder_id for account in accounts]).update(is_active=False)
    for account in accounts:
        account.status = CustomerAccount.Status.CLOSED
        account.closed_at = at
        account.holder.is_active = False


def _audit_entries(
    closure: Closure, refund: Refund | None, *, actor: Actor, at: dt.datetime, reason_words: str
) -> list[AuditEntry]:
    """The audit events of one closure, in the order they are written (rule E9);
    `reason_words` is its `get_reason_display()`."""
    entries = []
    if refund is not None:
        entries.append(
            AuditEntry(
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
        )
    entries.append(
        AuditEntry(
            actor=actor,
            action=AuditAction.CLOSURE_CONFIRMED,
            target=closure,
            before={"account_status": CustomerAccount.Status.OPEN},
            after=closure_summary(closure),
            reason=reason_words,
            at=at,
        )
    )
    return entries


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
