"""Reads for views, admin, exporters and services, with the joins they need."""

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.fields.reverse_related import OneToOneRel
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from .models import (
    AdvanceConnect,
    CustomerAccount,
    DirectBill,
    DirectBillCharge,
    DirectBillPayment,
    DirectBillStatement,
    EMessaging,
    LedgerEntry,
    MailingAddress,
    PhoneNumber,
    SecurusDebit,
    StampEntry,
    TopUpEnrolment,
    User,
    VideoSession,
    VideoSubscription,
)

K = LedgerEntry.Kind


@dataclass(frozen=True)
class AdvanceConnectSummary:
    balance_cents: int  # deposits and write-offs less settled charges and refunds
    unsettled_cents: int  # call charges posted but not yet deducted
    unsettled_count: int
    last_deposit: LedgerEntry | None

    @property
    def available_cents(self) -> int:
        """What is left once the unsettled charges are deducted (SPEC E3)."""
        return self.balance_cents - self.unsettled_cents

    @property
    def last_method(self) -> str:
        return self.last_deposit.method if self.last_deposit else ""


def _sum(condition: Q | None = None) -> Coalesce:
    return Coalesce(Sum("amount_cents", filter=condition), 0)


def advance_connect_summary(advance_connect: AdvanceConnect) -> AdvanceConnectSummary:
    """Balance and unsettled charges as kept on the row (read afresh: the instance may
    predate a write) and the last deposit: two queries, neither summing the ledger."""
    kept = AdvanceConnect.objects.values("balance_cents", "unsettled_cents", "unsettled_count")
    last_deposit = (
        LedgerEntry.objects.filter(advance_connect=advance_connect, kind=K.DEPOSIT)
        .order_by("-occurred_at", "-id")
        .first()
    )
    return AdvanceConnectSummary(**kept.get(pk=advance_connect.pk), last_deposit=last_deposit)


def advance_connect_summaries(
    account_ids: Collection[int],
) -> dict[int, tuple[int, AdvanceConnectSummary]]:
    """By account id: its AdvanceConnect's id and summary, as `advance_connect_summary`
    gives them, for any number of accounts in two queries (none for no ids)."""
    if not account_ids:
        return {}
    last_deposit = (
        LedgerEntry.objects.filter(advance_connect=OuterRef("pk"), kind=K.DEPOSIT)
        .order_by("-occurred_at", "-id")
        .values("pk")[:1]
    )
    rows = list(
        AdvanceConnect.objects.filter(account_id__in=account_ids)
        .annotate(last_deposit_id=Subquery(last_deposit))
        .values_list(
            "account_id",
            "pk",
            "balance_cents",
            "unsettled_cents",
            "unsettled_count",
            "last_deposit_id",
        )
    )
    deposit_ids = [row[-1] for row in rows if row[-1] is not None]
    # At most one row per account, whatever the length of its history.
    deposits = (
        {entry.pk: entry for entry in LedgerEntry.objects.filter(pk__in=deposit_ids)[: len(rows)]}
        if deposit_ids
        else {}
    )
    return {
        account_id: (
            pk,
            AdvanceConnectSummary(
                balance_cents=balance,
                unsettled_cents=unsettled,
                unsettled_count=count,
                last_deposit=deposits.get(deposit_id),
            ),
        )
        for account_id, pk, balance, unsettled, count, deposit_id in rows
    }


@dataclass(frozen=True)
class BalanceMismatch:
    """An account whose kept balance disagrees with the sum of its ledger."""

    advance_connect_id: int
    account_number: str
    kept: tuple[int, int, int]  # (balance cents, unsettled cents, unsettled count)
    ledger: tuple[int, int, int]


def _entries_sum(condition: Q) -> Coalesce:
    return Coalesce(Sum("entries__amount_cents", filter=condition), 0)


def advance_connect_balance_mismatches() -> list[BalanceMismatch]:
    """Recompute every kept balance from the whole ledger; the accounts that disagree."""
    settled = Q(entries__kind=K.CALL_CHARGE, entries__settled_at__isnull=False)
    unsettled = Q(entries__kind=K.CALL_CHARGE, entries__settled_at__isnull=True)
    rows = (
        AdvanceConnect.objects.annotate(
            ledger_balance=_entries_sum(Q(entries__kind__in=LedgerEntry.CREDITS))
            - _entries_sum(settled)
            - _entries_sum(Q(entries__kind=K.REFUND)),
            ledger_unsettled=_entries_sum(unsettled),
            ledger_unsettled_count=Count("entries", filter=unsettled),
        )
        .exclude(
            balance_cents=F("ledger_balance"),
            unsettled_cents=F("ledger_unsettled"),
            unsettled_count=F("ledger_unsettled_count"),
        )
        .order_by("id")
        .values_list(
            "id",
            "account__number",
            "balance_cents",
            "unsettled_cents",
            "unsettled_count",
            "ledger_balance",
            "ledger_unsettled",
            "ledger_unsettled_count",
        )
    )
    return [
        BalanceMismatch(
            advance_connect_id=pk, account_number=number, kept=tuple(row[:3]), ledger=tuple(row[3:])
        )
        for pk, number, *row in rows
    ]


def unsettled_charges(advance_connect: AdvanceConnect) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(
        advance_connect=advance_connect, kind=K.CALL_CHARGE, settled_at__isnull=True
    ).order_by("occurred_at", "id")


@dataclass(frozen=True)
class UnsettledByAge:
    """Unsettled call charges split at 24 hours before `at` (SPEC E3)."""

    recent_count: int
    recent_cents: int
    older_count: int
    older_cents: int


def unsettled_by_age(advance_connect: AdvanceConnect, at: dt.datetime) -> UnsettledByAge:
    return unsettled_by_age_of([advance_connect.pk], at)[advance_connect.pk]


def unsettled_by_age_of(
    advance_connect_ids: Collection[int], at: dt.datetime
) -> dict[int, UnsettledByAge]:
    """`unsettled_by_age` of each AdvanceConnect, in one query (none for no ids)."""
    if not advance_connect_ids:
        return {}
    since = at - dt.timedelta(hours=settings.RECENT_CALLS_HOURS)
    recent, older = Q(occurred_at__gte=since), Q(occurred_at__lt=since)
    rows = (
        LedgerEntry.objects.filter(
            advance_connect_id__in=advance_connect_ids,
            kind=K.CALL_CHARGE,
            settled_at__isnull=True,
        )
        .order_by()
        .values("advance_connect_id")
        .annotate(
            recent_count=Count("id", filter=recent),
            recent_cents=_sum(recent),
            older_count=Count("id", filter=older),
            older_cents=_sum(older),
        )
    )
    found = {
        row["advance_connect_id"]: UnsettledByAge(
            recent_count=row["recent_count"],
            recent_cents=row["recent_cents"],
            older_count=row["older_count"],
            older_cents=row["older_cents"],
        )
        for row in rows
    }
    none = UnsettledByAge(recent_count=0, recent_cents=0, older_count=0, older_cents=0)
    return {pk: found.get(pk, none) for pk in advance_connect_ids}


def stamps_balance(emessaging: EMessaging) -> int:
    return stamps_balances([emessaging.pk])[emessaging.pk]


def stamps_balances(emessaging_ids: Collection[int]) -> dict[int, int]:
    """Stamps bought less stamps used or forfeited, by eMessaging account, in one query
    (none for no ids)."""
    if not emessaging_ids:
        return {}
    rows = (
        StampEntry.objects.filter(emessaging_id__in=emessaging_ids)
        .order_by()
        .values("emessaging_id")
        .annotate(
            bought=Coalesce(Sum("stamps", filter=Q(kind=StampEntry.Kind.PURCHASE)), 0),
            gone=Coalesce(Sum("stamps", filter=~Q(kind=StampEntry.Kind.PURCHASE)), 0),
        )
    )
    found = {row["emessaging_id"]: row["bought"] - row["gone"] for row in rows}
    return {pk: found.get(pk, 0) for pk in emessaging_ids}


def current_address(account: CustomerAccount) -> MailingAddress | None:
    return account.addresses.filter(replaced_at__isnull=True).first()


def current_addresses(account_ids: Collection[int]) -> dict[int, MailingAddress]:
    """The address on record of each account that has one, in one query."""
    addresses = MailingAddress.objects.filter(account_id__in=account_ids, replaced_at__isnull=True)
    return {address.account_id: address for address in addresses}


# What `account_for_holder(..., with_lists=True)` says an account has, so My Account reads
# only the lists there are (most accounts have none of them). Built once: `annotate` copies
# an expression before resolving it, and building four subqueries per request cost a
# holder page about 1 ms.
LISTS = {
    name: Exists(rows.filter(account=OuterRef("pk")))
    for name, rows in {
        "has_top_ups": TopUpEnrolment.objects.filter(terminated_at__isnull=True),
        "has_debit_accounts": SecurusDebit.objects.all(),
        "has_video_subscriptions": VideoSubscription.objects.filter(
            status=VideoSubscription.Status.ACTIVE
        ),
        "has_video_sessions": VideoSession.objects.filter(status=VideoSession.Status.SCHEDULED),
    }.items()
}


def account_for_holder(user: User, *, with_lists: bool = False) -> CustomerAccount | None:
    """The holder's own account with its one-to-one services, in one query; `with_lists`
    also says whether it has any of `LISTS`."""
    accounts = CustomerAccount.objects.select_related(
        "holder", "advance_connect", "direct_bill", "emessaging"
    ).filter(holder=user)
    if with_lists:
        accounts = accounts.annotate(**LISTS)
    return accounts.first()


def may_have(account: CustomerAccount, name: str) -> bool:
    """False only when the account was read knowing it has no `name`: one of `LISTS`
    that `account_for_holder(..., with_lists=True)` found empty, or a one-to-one service
    ("advance_connect", ...) it joined and found missing."""
    if name in LISTS:
        return getattr(account, name, True)
    service = CustomerAccount._meta.get_field(name)
    assert isinstance(service, OneToOneRel), name
    return not service.is_cached(account) or service.get_cached_value(account) is not None


def future_video_sessions(account: CustomerAccount, now: dt.datetime) -> QuerySet[VideoSession]:
    return future_video_sessions_of([account.pk], now)


def future_video_sessions_of(
    account_ids: Collection[int], now: dt.datetime
) -> QuerySet[VideoSession]:
    return VideoSession.objects.filter(
        account_id__in=account_ids, status=VideoSession.Status.SCHEDULED, starts_at__gt=now
    ).order_by("starts_at", "id")


# --- Direct Bill ---

UNPAID_STATEMENT = [
    DirectBillStatement.Status.ISSUED,
    DirectBillStatement.Status.PARTIALLY_PAID,
    DirectBillStatement.Status.PAST_DUE,
]


@dataclass(frozen=True)
class DirectBillSummary:
    direct_bill: DirectBill
    unbilled_cents: int  # charges not yet on a statement: this cycle's
    unbilled_count: int
    unpaid_statements_cents: int  # statements neither paid nor written off
    paid_towards_unpaid_cents: int  # payments already made on those statements
    last_statement: DirectBillStatement | None

    @property
    def outstanding_cents(self) -> int:
        """What the holder still owes: unpaid statements less payments, plus unbilled."""
        return self.unpaid_statements_cents - self.paid_towards_unpaid_cents + self.unbilled_cents


def unbilled_charges(direct_bill: DirectBill) -> QuerySet[DirectBillCharge]:
    """Direct Bill charges not yet on a statement."""
    return DirectBillCharge.objects.filter(direct_bill=direct_bill, statement__isnull=True)


def unbilled_cents(direct_bill: DirectBill) -> int:
    return unbilled_charges(direct_bill).aggregate(total=_sum())["total"]


def unbilled_cents_of(direct_bill_ids: Collection[int]) -> dict[int, int]:
    """`unbilled_cents` of each Direct Bill account, in one query (none for no ids)."""
    if not direct_bill_ids:
        return {}
    rows = (
        DirectBillCharge.objects.filter(direct_bill_id__in=direct_bill_ids, statement__isnull=True)
        .order_by()
        .values("direct_bill_id")
        .annotate(total=_sum())
    )
    found = {row["direct_bill_id"]: row["total"] for row in rows}
    return {pk: found.get(pk, 0) for pk in direct_bill_ids}


def direct_bill_summary(direct_bill: DirectBill) -> DirectBillSummary:
    """Unbilled charges, what is outstanding and the last statement, in four queries."""
    unbilled = unbilled_charges(direct_bill).aggregate(total=_sum(), count=Count("id"))
    unpaid = DirectBillStatement.objects.filter(
        direct_bill=direct_bill, status__in=UNPAID_STATEMENT
    ).aggregate(total=_sum())
    paid = DirectBillPayment.objects.filter(
        statement__direct_bill=direct_bill, statement__status__in=UNPAID_STATEMENT
    ).aggregate(total=_sum())
    last_statement = direct_bill.statements.order_by("-statement_date", "-id").first()
    return DirectBillSummary(
        direct_bill=direct_bill,
        unbilled_cents=unbilled["total"],
        unbilled_count=unbilled["count"],
        unpaid_statements_cents=unpaid["total"],
        paid_towards_unpaid_cents=paid["total"],
        last_statement=last_statement,
    )


# --- My Account ---


@dataclass(frozen=True)
class CallRow:
    """One call on either service, as the holder sees it in the list of recent calls."""

    class State(models.TextChoices):
        PENDING = "pending", _("pending, not yet deducted")  # AdvanceConnect
        DEDUCTED = "deducted", _("deducted")  # AdvanceConnect, settled
        UNBILLED = "unbilled", _("not yet billed")  # Direct Bill, not yet on a statement
        BILLED = "billed", _("billed")  # Direct Bill, on a statement

    occurred_at: dt.datetime
    number_called: str
    amount_cents: int
    state: str

    @property
    def state_words(self) -> str:
        return str(self.State(self.state).label)


# The columns My Account shows of a call. Its ledger reads load only what it shows, so a
# deposit's payment processor reference never reaches a holder's page.
CALL_SHOWN = ("occurred_at", "number_called", "amount_cents")


def recent_prepaid_calls(
    advance_connect: AdvanceConnect, *, limit: int = 10
) -> QuerySet[LedgerEntry]:
    """The latest AdvanceConnect calls, newest first. Filtered on the AdvanceConnect id
    (not a join on the account), so PostgreSQL reads them off
    `accounts_ledger_kind_latest` and stops after `limit`; through a join it sorted the
    account's whole history (issue 13)."""
    return (
        LedgerEntry.objects.filter(advance_connect=advance_connect, kind=K.CALL_CHARGE)
        .only(*CALL_SHOWN, "settled_at")
        .order_by("-occurred_at", "-id")[:limit]
    )


def recent_calls(account: CustomerAccount, *, limit: int = 10) -> list[CallRow]:
    """The latest calls on AdvanceConnect and Direct Bill together: a query for each of
    the two services the account has (`account_for_holder` joined them)."""
    advance_connect = getattr(account, "advance_connect", None)
    direct_bill = getattr(account, "direct_bill", None)
    prepaid = recent_prepaid_calls(advance_connect, limit=limit) if advance_connect else []
    billed = (
        DirectBillCharge.objects.filter(direct_bill=direct_bill)
        .only(*CALL_SHOWN, "statement_id")
        .order_by("-occurred_at", "-id")[:limit]
        if direct_bill
        else []
    )
    rows = [
        CallRow(
            occurred_at=entry.occurred_at,
            number_called=entry.number_called,
            amount_cents=entry.amount_cents,
            state=CallRow.State.DEDUCTED if entry.settled_at else CallRow.State.PENDING,
        )
        for entry in prepaid
    ] + [
        CallRow(
            occurred_at=charge.occurred_at,
            number_called=charge.number_called,
            amount_cents=charge.amount_cents,
            state=CallRow.State.BILLED if charge.statement_id else CallRow.State.UNBILLED,
        )
        for charge in billed
    ]
    return sorted(rows, key=lambda row: row.occurred_at, reverse=True)[:limit]


def recent_deposits(advance_connect: AdvanceConnect, *, limit: int = 10) -> QuerySet[LedgerEntry]:
    return (
        LedgerEntry.objects.filter(advance_connect=advance_connect, kind=K.DEPOSIT)
        .only("occurred_at", "amount_cents", "method", "card_brand", "card_last4")
        .order_by("-occurred_at", "-id")[:limit]
    )


def active_top_ups(account: CustomerAccount) -> set[str]:
    """The kinds of top-up (TextPay, AutoPay) the account is enrolled in now."""
    if not may_have(account, "has_top_ups"):
        return set()
    return set(account.top_ups.filter(terminated_at__isnull=True).values_list("kind", flat=True))


@dataclass(frozen=True)
class VideoConnectSummary:
    subscriptions: list[VideoSubscription]
    upcoming_sessions: list[VideoSession]


def video_connect_summary(account: CustomerAccount, now: dt.datetime) -> VideoConnectSummary | None:
    """Active subscriptions and future sessions; None when there are neither (SPEC D3)."""
    subscriptions = (
        list(
            account.video_subscriptions.filter(status=VideoSubscription.Status.ACTIVE).order_by(
                "started_at", "id"
            )
        )
        if may_have(account, "has_video_subscriptions")
        else []
    )
    sessions = (
        list(future_video_sessions(account, now)) if may_have(account, "has_video_sessions") else []
    )
    if not subscriptions and not sessions:
        return None
    return VideoConnectSummary(subscriptions=subscriptions, upcoming_sessions=sessions)


UNSETTLED_SHOWN = 20


@dataclass(frozen=True)
class MyAccountOverview:
    """Everything My Account shows; a service the account lacks is None (or empty)."""

    account: CustomerAccount
    advance_connect: AdvanceConnectSummary | None
    unsettled: list[LedgerEntry]  # the first UNSETTLED_SHOWN, oldest first
    deposits: list[LedgerEntry]
    top_ups: set[str]
    direct_bill: DirectBillSummary | None
    debit_accounts: list[SecurusDebit]
    stamps: int | None
    video: VideoConnectSummary | None
    calls: list[CallRow]

    @property
    def unsettled_not_shown(self) -> int:
        if self.advance_connect is None:  # no AdvanceConnect: no unsettled calls at all
            return 0
        return self.advance_connect.unsettled_count - len(self.unsettled)

    @property
    def has_textpay(self) -> bool:
        return TopUpEnrolment.Kind.TEXTPAY in self.top_ups

    @property
    def has_autopay(self) -> bool:
        return TopUpEnrolment.Kind.AUTOPAY in self.top_ups


def my_account_overview(account: CustomerAccount, *, now: dt.datetime) -> MyAccountOverview:
    """The holder's services and recent money, in a fixed number of queries at any size.

    `account` should come from `account_for_holder(..., with_lists=True)`, which joins the
    one-to-one services and says which lists there are to read.
    """
    advance_connect = getattr(account, "advance_connect", None)
    direct_bill = getattr(account, "direct_bill", None)
    emessaging = getattr(account, "emessaging", None)
    prepaid, unsettled, deposits = None, [], []
    if advance_connect:
        deposits = list(recent_deposits(advance_connect))
        # The balance as kept on the row read with the account in this same request, and
        # the last deposit from the list: `advance_connect_summary` without its two reads.
        prepaid = AdvanceConnectSummary(
            balance_cents=advance_connect.balance_cents,
            unsettled_cents=advance_connect.unsettled_cents,
            unsettled_count=advance_connect.unsettled_count,
            last_deposit=deposits[0] if deposits else None,
        )
        unsettled = list(unsettled_charges(advance_connect).only(*CALL_SHOWN)[:UNSETTLED_SHOWN])
    return MyAccountOverview(
        account=account,
        advance_connect=prepaid,
        unsettled=unsettled,
        deposits=deposits,
        top_ups=active_top_ups(account),
        direct_bill=direct_bill_summary(direct_bill) if direct_bill else None,
        debit_accounts=(
            list(account.debit_accounts.order_by("id"))
            if may_have(account, "has_debit_accounts")
            else []
        ),
        stamps=stamps_balance(emessaging) if emessaging else None,
        video=video_connect_summary(account, now),
        calls=recent_calls(account),
    )


# --- My Settings ---


def addresses_on_record(account: CustomerAccount) -> tuple[MailingAddress | None, list]:
    """The current address and the previous ones, latest replaced first, in one query."""
    current, previous = None, []
    for address in account.addresses.order_by("-created_at", "-id"):
        if address.replaced_at is None:
            current = address
        else:
            previous.append(address)
    previous.sort(key=lambda address: (address.replaced_at, address.pk), reverse=True)
    return current, previous


def phone_numbers(account: CustomerAccount) -> QuerySet[PhoneNumber]:
    return account.phone_numbers.order_by("id")


def closed_account_for_email(email: str) -> CustomerAccount | None:
    """The closed account (with its closure) of the holder with this email, if any."""
    return (
        CustomerAccount.objects.select_related("closure")
        .filter(
            holder__email__iexact=email,
            status=CustomerAccount.Status.CLOSED,
            closure__isnull=False,
        )
        .first()
    )
