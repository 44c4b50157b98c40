"""Reads for views, admin, exporters and services, with the joins they need."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce

from .models import (
    AdvanceConnect,
    CustomerAccount,
    LedgerEntry,
    MailingAddress,
    StampEntry,
    VideoSession,
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


def _sum(condition):
    return Coalesce(Sum("amount_cents", filter=condition), 0)


def advance_connect_summary(advance_connect: AdvanceConnect) -> AdvanceConnectSummary:
    """Balance, unsettled charges and the last deposit, in two queries at any size."""
    totals = LedgerEntry.objects.filter(advance_connect=advance_connect).aggregate(
        credits=_sum(Q(kind__in=[K.DEPOSIT, K.SHORTFALL])),
        settled=_sum(Q(kind=K.CALL_CHARGE, settled_at__isnull=False)),
        refunded=_sum(Q(kind=K.REFUND)),
        unsettled=_sum(Q(kind=K.CALL_CHARGE, settled_at__isnull=True)),
        unsettled_count=Count("id", filter=Q(kind=K.CALL_CHARGE, settled_at__isnull=True)),
    )
    last_deposit = (
        LedgerEntry.objects.filter(advance_connect=advance_connect, kind=K.DEPOSIT)
        .order_by("-occurred_at", "-id")
        .first()
    )
    return AdvanceConnectSummary(
        balance_cents=totals["credits"] - totals["settled"] - totals["refunded"],
        unsettled_cents=totals["unsettled"],
        unsettled_count=totals["unsettled_count"],
        last_deposit=last_deposit,
    )


def unsettled_charges(advance_connect: AdvanceConnect):
    return LedgerEntry.objects.filter(
        advance_connect=advance_connect, kind=K.CALL_CHARGE, settled_at__isnull=True
    ).order_by("occurred_at", "id")


def stamps_balance(emessaging) -> int:
    totals = StampEntry.objects.filter(emessaging=emessaging).aggregate(
        bought=Coalesce(Sum("stamps", filter=Q(kind=StampEntry.Kind.PURCHASE)), 0),
        gone=Coalesce(Sum("stamps", filter=~Q(kind=StampEntry.Kind.PURCHASE)), 0),
    )
    return totals["bought"] - totals["gone"]


def current_address(account: CustomerAccount) -> MailingAddress | None:
    return account.addresses.filter(replaced_at__isnull=True).first()


def account_for_holder(user) -> CustomerAccount | None:
    """The holder's own account with its one-to-one services, in one query."""
    return (
        CustomerAccount.objects.select_related(
            "holder", "advance_connect", "direct_bill", "emessaging"
        )
        .filter(holder=user)
        .first()
    )


def future_video_sessions(account: CustomerAccount, now: dt.datetime):
    return account.video_sessions.filter(
        status=VideoSession.Status.SCHEDULED, starts_at__gt=now
    ).order_by("starts_at", "id")
