"""The AdvanceConnect balance is the ledger's sum; money is positive integer cents."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import (
    DirectBillStatement,
    LedgerEntry,
    PurchaseMethod,
    SecurusDebit,
    StampEntry,
    VideoSession,
)
from accounts.selectors import advance_connect_summary, direct_bill_summary, stamps_balance
from tests.factories import (
    AdvanceConnectFactory,
    DirectBillChargeFactory,
    DirectBillFactory,
    DirectBillPaymentFactory,
    DirectBillStatementFactory,
    EMessagingFactory,
    LedgerEntryFactory,
    SecurusDebitFactory,
    StampEntryFactory,
    VideoSessionFactory,
)

pytestmark = pytest.mark.django_db

NOW = timezone.now()

# Each scenario: the ledger rows as (trait, cents). Traits are those of LedgerEntryFactory.
SCENARIOS = {
    "no entries": [],
    "one card deposit": [("deposit", 5000)],
    "deposits by every method": [
        ("deposit", 5000),
        ("by_mail", 2000),
        ("by_moneygram", 1500),
        ("by_western_union", 1000),
    ],
    "settled calls": [("deposit", 5000), ("settled_call", 315), ("settled_call", 1050)],
    "settled and unsettled calls": [
        ("deposit", 7500),
        ("settled_call", 3250),
        ("unsettled_call", 315),
        ("unsettled_call", 105),
    ],
    "refunded at closure": [("deposit", 5000), ("settled_call", 750), ("refund", 4250)],
    "pending calls above the balance, shortfall written off": [
        ("deposit", 1000),
        ("settled_call", 900),
        ("unsettled_call", 300),
        ("shortfall", 200),
        ("settled_call", 300),
    ],
}


def make_ledger(rows, **kwargs):
    advance_connect = AdvanceConnectFactory(**kwargs)
    entries = [
        LedgerEntryFactory(
            advance_connect=advance_connect,
            amount_cents=cents,
            **({} if trait == "deposit" else {trait: True}),
        )
        for trait, cents in rows
    ]
    return advance_connect, entries


def is_unsettled(entry):
    return entry.kind == LedgerEntry.Kind.CALL_CHARGE and entry.settled_at is None


@pytest.mark.parametrize("rows", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_balance_is_the_sum_of_the_ledger(rows):
    advance_connect, entries = make_ledger(rows)
    summary = advance_connect_summary(advance_connect)

    assert summary.balance_cents == sum(e.signed_cents for e in entries if not is_unsettled(e))
    assert summary.unsettled_cents == sum(e.amount_cents for e in entries if is_unsettled(e))
    assert summary.unsettled_count == sum(1 for e in entries if is_unsettled(e))
    assert summary.available_cents == sum(e.signed_cents for e in entries)


def test_the_examples_add_up_to_what_a_holder_would_expect():
    summaries = {
        name: advance_connect_summary(make_ledger(rows)[0]) for name, rows in SCENARIOS.items()
    }
    card = summaries["settled and unsettled calls"]
    assert (card.balance_cents, card.unsettled_cents, card.available_cents) == (4250, 420, 3830)
    assert summaries["refunded at closure"].balance_cents == 0
    assert summaries["pending calls above the balance, shortfall written off"].balance_cents == 0
    assert summaries["no entries"].last_deposit is None


def test_another_accounts_ledger_does_not_count():
    mine, _ = make_ledger([("deposit", 1000)])
    make_ledger([("deposit", 9999), ("unsettled_call", 500)])
    summary = advance_connect_summary(mine)
    assert (summary.balance_cents, summary.unsettled_cents) == (1000, 0)


def test_last_deposit_is_the_latest_in_time_not_the_latest_written():
    advance_connect = AdvanceConnectFactory()
    LedgerEntryFactory(advance_connect=advance_connect, by_mail=True, occurred_at=NOW)
    LedgerEntryFactory(advance_connect=advance_connect, occurred_at=NOW - dt.timedelta(days=3))
    LedgerEntryFactory(advance_connect=advance_connect, settled_call=True, occurred_at=NOW)
    assert advance_connect_summary(advance_connect).last_method == PurchaseMethod.MAIL


def test_deposits_at_the_same_moment_are_ordered_by_id():
    advance_connect = AdvanceConnectFactory()
    LedgerEntryFactory(advance_connect=advance_connect, occurred_at=NOW)
    second = LedgerEntryFactory(advance_connect=advance_connect, by_moneygram=True, occurred_at=NOW)
    summary = advance_connect_summary(advance_connect)
    assert summary.last_deposit == second
    assert summary.last_method == PurchaseMethod.MONEYGRAM


def test_unsettled_charges_are_listed_apart_from_the_balance(client):
    advance_connect, _ = make_ledger(SCENARIOS["settled and unsettled calls"])
    client.force_login(advance_connect.account.holder)
    overview = client.get(reverse("accounts:my_account")).context["overview"]
    assert [e.amount_cents for e in overview.unsettled] == [315, 105]
    assert overview.advance_connect.balance_cents == 4250
    assert overview.advance_connect.available_cents == 3830


@pytest.mark.parametrize(
    "make",
    [
        lambda cents: LedgerEntryFactory(amount_cents=cents),
        lambda cents: LedgerEntryFactory(amount_cents=cents, settled_call=True),
        lambda cents: DirectBillChargeFactory(amount_cents=cents),
        lambda cents: DirectBillStatementFactory(amount_cents=cents),
        lambda cents: DirectBillPaymentFactory(amount_cents=cents),
        lambda cents: SecurusDebitFactory(balance_cents=cents),
        lambda cents: StampEntryFactory(amount_cents=cents),
        lambda cents: VideoSessionFactory(amount_paid_cents=cents),
    ],
    ids=[
        "deposit",
        "call charge",
        "direct bill charge",
        "statement",
        "payment",
        "debit balance",
        "stamps paid",
        "video session paid",
    ],
)
def test_negative_amounts_are_refused_by_the_database(make):
    with pytest.raises(IntegrityError), transaction.atomic():
        make(-1)


def test_a_zero_deposit_is_refused_by_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntryFactory(amount_cents=0)


def test_a_deposit_needs_a_purchase_method():
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntryFactory(method="")


@pytest.mark.parametrize(
    "model, field",
    [
        (LedgerEntry, "amount_cents"),
        (DirectBillStatement, "amount_cents"),
        (SecurusDebit, "balance_cents"),
        (StampEntry, "amount_cents"),
        (VideoSession, "amount_paid_cents"),
    ],
)
def test_float_amounts_are_refused(model, field):
    with pytest.raises(TypeError, match="never a float"):
        model._meta.get_field(field).get_prep_value(42.5)


def test_a_float_deposit_never_reaches_the_database():
    advance_connect = AdvanceConnectFactory()
    with pytest.raises(TypeError, match="never a float"), transaction.atomic():
        LedgerEntryFactory(advance_connect=advance_connect, amount_cents=42.50)
    assert not advance_connect.entries.exists()


def test_stamps_balance_is_bought_less_used():
    emessaging = EMessagingFactory(stamps=15)
    StampEntryFactory(emessaging=emessaging, used=True, stamps=3)
    StampEntryFactory(used=True, stamps=5)  # another account's
    assert stamps_balance(emessaging) == 12


def test_direct_bill_outstanding_is_unpaid_statements_less_payments_plus_unbilled():
    direct_bill = DirectBillFactory()
    paid = DirectBillStatementFactory(
        direct_bill=direct_bill, paid=True, statement_date=NOW.date() - dt.timedelta(days=60)
    )
    partly = DirectBillStatementFactory(
        direct_bill=direct_bill,
        amount_cents=3000,
        status=DirectBillStatement.Status.PARTIALLY_PAID,
        statement_date=NOW.date() - dt.timedelta(days=30),
    )
    DirectBillPaymentFactory(statement=partly, amount_cents=1000)
    DirectBillStatementFactory(
        direct_bill=direct_bill,
        amount_cents=500,
        status=DirectBillStatement.Status.WRITTEN_OFF,
        statement_date=NOW.date() - dt.timedelta(days=90),
    )
    DirectBillChargeFactory(direct_bill=direct_bill, amount_cents=315)
    DirectBillChargeFactory(direct_bill=direct_bill, amount_cents=630)
    DirectBillChargeFactory(direct_bill=direct_bill, statement=paid, amount_cents=999)

    summary = direct_bill_summary(direct_bill)
    assert (summary.unbilled_cents, summary.unbilled_count) == (945, 2)
    assert summary.outstanding_cents == 3000 - 1000 + 945
    assert summary.last_statement == partly
