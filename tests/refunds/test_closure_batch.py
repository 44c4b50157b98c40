"""The batch closure (the inactivity sweep's) makes exactly the rows the one-account
closure makes (rules E1-E9, N3): a corpus of differently shaped accounts is closed once
account by account and once in one batch, and every row is compared field by field."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import (
    AdvanceConnect,
    CustomerAccount,
    LedgerEntry,
    StampEntry,
    TopUpEnrolment,
    User,
    VideoSession,
    VideoSubscription,
)
from accounts.selectors import advance_connect_balance_mismatches
from portal import db
from portal.actors import SYSTEM
from portal.audit import audit_event_open
from portal.models import AuditEvent
from refunds.gateway import FakeCardGateway
from refunds.models import Closure, Refund
from refunds.services.closure import closure_confirm, closures_confirm
from tests.factories import (
    AdvanceConnectFactory,
    CustomerAccountFactory,
    DirectBillChargeFactory,
    DirectBillFactory,
    EMessagingFactory,
    LedgerEntryFactory,
    SecurusDebitFactory,
    StampEntryFactory,
    TopUpEnrolmentFactory,
    VideoSessionFactory,
    VideoSubscriptionFactory,
)

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
NOW = dt.datetime(2026, 11, 16, 10, 0, tzinfo=CHICAGO)  # a Monday
LONG_AGO = NOW - dt.timedelta(days=300)


def days_ago(n, hours=0):
    return NOW - dt.timedelta(days=n, hours=hours)


def account_of(shape, *, address=True, confirmed=False):
    """An open New Mexico account whose holder, address and dates are the same in every
    copy of `shape` (only the email and the account number differ)."""
    address_fields = {"created_at": LONG_AGO, "confirmed_at": days_ago(2) if confirmed else None}
    return CustomerAccountFactory(
        new_mexico=True,
        holder__first_name="Ana",
        holder__last_name=shape,
        opened_at=LONG_AGO,
        last_activity_at=days_ago(200),
        address=address_fields if address else False,
    )


def prepaid(account, *deposits, settled=(), unsettled=()):
    """Deposits as (cents, trait or None for a card, days ago), with pinned tokens."""
    ac = AdvanceConnectFactory(account=account, opened_at=LONG_AGO)
    for cents, trait, ago in deposits:
        LedgerEntryFactory(
            advance_connect=ac,
            amount_cents=cents,
            occurred_at=days_ago(ago),
            **({trait: True} if trait else {"processor_token": f"tok_{account.holder.last_name}"}),
        )
    for cents in settled:
        LedgerEntryFactory(
            advance_connect=ac, settled_call=True, amount_cents=cents, occurred_at=days_ago(5)
        )
    for cents, hours in unsettled:
        LedgerEntryFactory(
            advance_connect=ac,
            unsettled_call=True,
            amount_cents=cents,
            occurred_at=days_ago(0, hours),
        )
    return ac


def card_refund():
    account = account_of("card", confirmed=True)
    prepaid(account, (5000, None, 20), settled=[750], unsettled=[(315, 2), (105, 30)])
    return account


def check_refund():
    account = account_of("check")
    prepaid(account, (3000, None, 60), (2000, "by_mail", 30))
    return account


def no_deposit():  # rule E4: a check flagged for staff review
    account = account_of("nodeposit")
    LedgerEntryFactory(
        advance_connect=AdvanceConnectFactory(account=account, opened_at=LONG_AGO),
        shortfall=True,
        amount_cents=700,
        occurred_at=days_ago(40),
    )
    return account


def shortfall():  # rule E3: charges above the balance, recorded and not charged
    account = account_of("shortfall")
    prepaid(account, (500, "by_moneygram", 20), unsettled=[(450, 3), (300, 40)])
    return account


def zero_balance():
    account = account_of("zero")
    prepaid(account, (1000, "by_western_union", 20), settled=[1000])
    return account


def direct_bill_held():  # rule E5
    account = account_of("directbill")
    direct_bill = DirectBillFactory(account=account, opened_at=LONG_AGO)
    DirectBillChargeFactory(direct_bill=direct_bill, amount_cents=640, occurred_at=days_ago(3))
    DirectBillChargeFactory(billed=True, direct_bill=direct_bill, occurred_at=days_ago(40))
    return account


def stamps_and_debit():  # rules E6, E7
    account = account_of("stamps")
    emessaging = EMessagingFactory(account=account)
    StampEntryFactory(emessaging=emessaging, stamps=12, occurred_at=days_ago(20))
    StampEntryFactory(emessaging=emessaging, used=True, stamps=5, occurred_at=days_ago(10))
    SecurusDebitFactory(account=account, balance_cents=3100)
    SecurusDebitFactory(account=account, balance_cents=0)
    EMessagingFactory(account=account_of("nostamps"))  # a neighbour with none left
    return account


def video():  # rule E8
    account = account_of("video")
    VideoSessionFactory(account=account, starts_at=NOW + dt.timedelta(days=2))
    VideoSessionFactory(account=account, starts_at=NOW + dt.timedelta(days=9))
    VideoSessionFactory(account=account, past=True, starts_at=days_ago(1))
    VideoSubscriptionFactory(account=account, started_at=days_ago(60))
    VideoSubscriptionFactory(
        account=account, cancelled=True, started_at=days_ago(90), cancelled_at=days_ago(30)
    )
    return account


def no_address():  # a check with no address to print: staff find one
    account = account_of("noaddress", address=False)
    prepaid(account, (2500, "by_mail", 10))
    return account


def top_ups():  # rule E2
    account = account_of("topups")
    prepaid(account, (1200, None, 4))
    TopUpEnrolmentFactory(account=account, textpay=True, enrolled_at=days_ago(90))
    TopUpEnrolmentFactory(account=account, enrolled_at=days_ago(80))
    TopUpEnrolmentFactory(
        account=account, terminated=True, enrolled_at=days_ago(200), terminated_at=days_ago(100)
    )
    return account


def everything():
    account = account_of("everything", confirmed=True)
    prepaid(account, (2500, "by_mail", 10), unsettled=[(100, 5)])
    TopUpEnrolmentFactory(account=account, textpay=True, enrolled_at=days_ago(90))
    DirectBillChargeFactory(
        direct_bill=DirectBillFactory(account=account, opened_at=LONG_AGO),
        amount_cents=900,
        occurred_at=days_ago(1),
    )
    SecurusDebitFactory(account=account, balance_cents=1800)
    StampEntryFactory(
        emessaging=EMessagingFactory(account=account), stamps=3, occurred_at=days_ago(3)
    )
    VideoSessionFactory(account=account, starts_at=NOW + dt.timedelta(days=1))
    VideoSubscriptionFactory(account=account, started_at=days_ago(10))
    return account


SHAPES = [
    card_refund,
    check_refund,
    no_deposit,
    shortfall,
    zero_balance,
    direct_bill_held,
    stamps_and_debit,
    video,
    no_address,
    top_ups,
    everything,
]


def fields(row, *leave_out):
    """Every column of `row` but its id, the foreign keys and `leave_out`."""
    skip = {"id", *leave_out}
    return {
        field.attname: getattr(row, field.attname)
        for field in row._meta.concrete_fields
        if field.attname not in skip and not field.is_relation
    }


def without(reference, value):
    """`value` with the closure reference (random in each copy) made a placeholder."""
    if isinstance(value, str):
        return value.replace(reference, "<reference>")
    if isinstance(value, dict):
        return {key: without(reference, item) for key, item in value.items()}
    if isinstance(value, list):
        return [without(reference, item) for item in value]
    return value


def rows_of(account):
    """What closing `account` wrote and changed, with nothing that differs between
    copies of one shape (ids, references, the holder's email)."""
    account.refresh_from_db()
    closure = Closure.objects.get(account=account)
    ac = AdvanceConnect.objects.filter(account=account).first()
    refunds = list(Refund.objects.filter(closure=closure))
    events = AuditEvent.objects.filter(
        object_type="refunds.closure", object_id=str(closure.pk)
    ) | AuditEvent.objects.filter(
        object_type="refunds.refund", object_id__in=[str(refund.pk) for refund in refunds]
    )
    address = closure.address.as_dict() if closure.address else None
    rows = {
        "account": fields(account, "number"),
        "holder_active": User.objects.get(pk=account.holder_id).is_active,
        "closure": {
            **fields(closure, "reference", "confirmation_emailed_at"),
            "address": address,
            "closed_by": closure.closed_by_id,
        },
        "refunds": [fields(refund) for refund in refunds],
        "balance": ac and (ac.balance_cents, ac.unsettled_cents, ac.unsettled_count),
        "ledger": sorted(
            (fields(entry) for entry in LedgerEntry.objects.filter(advance_connect=ac)),
            key=lambda entry: (entry["occurred_at"], entry["kind"], entry["amount_cents"]),
        ),
        "top_ups": sorted(
            (fields(top_up) for top_up in TopUpEnrolment.objects.filter(account=account)),
            key=lambda top_up: (top_up["kind"], top_up["enrolled_at"]),
        ),
        "stamps": sorted(
            (fields(entry) for entry in StampEntry.objects.filter(emessaging__account=account)),
            key=lambda entry: (entry["occurred_at"], entry["kind"]),
        ),
        "sessions": [
            fields(session)
            for session in VideoSession.objects.filter(account=account).order_by("starts_at")
        ],
        "subscriptions": [
            fields(subscription)
            for subscription in VideoSubscription.objects.filter(account=account).order_by(
                "started_at"
            )
        ],
        "audit": [
            {
                **fields(event, "object_id", "hash", "prev_hash", "key_id"),
                **audit_event_open(event),
            }
            for event in events.order_by("id")
        ],
    }
    for event in rows["audit"]:
        if "address_id" in event["after"]:  # the address is compared above, by content
            event["after"]["address_id"] = event["after"]["address_id"] is not None
    return without(closure.reference, rows)


def after_commit_work(accounts):
    """What the tasks did: each confirmation emailed once, each card refund submitted."""
    closures = Closure.objects.filter(account__in=accounts)
    return {
        "emails": sorted(
            len([m for m in mail.outbox if m.to == [account.holder.email]]) for account in accounts
        ),
        "unsent": closures.filter(confirmation_emailed_at__isnull=True).count(),
        "refunds": sorted(
            Refund.objects.filter(closure__in=closures).values_list("method", "status")
        ),
    }


def test_the_batch_closure_writes_exactly_the_rows_of_closing_each_account_alone(
    django_capture_on_commit_callbacks,
):
    alone = {shape.__name__: shape() for shape in SHAPES}
    batched = {shape.__name__: [shape(), shape()] for shape in SHAPES}
    pairs = [account for pair in batched.values() for account in pair]

    with django_capture_on_commit_callbacks() as one_by_one:
        for account in alone.values():
            closure_confirm(account=account, actor=SYSTEM, at=NOW, reason="inactivity")
    with django_capture_on_commit_callbacks() as in_batch:
        closures = closures_confirm(pairs, actor=SYSTEM, at=NOW, reason="inactivity")

    assert len(closures) == 2 * len(SHAPES)
    for name, account in alone.items():
        expected = rows_of(account)
        for copy in batched[name]:
            assert rows_of(copy) == expected, name
    # Every effect is there at all (two empty lists would compare equal too).
    everything = rows_of(alone["everything"])
    assert [event["action"] for event in everything["audit"]] == [
        "refund.created",
        "closure.confirmed",
    ]
    assert everything["closure"]["stamps_forfeited"] == 3
    assert everything["closure"]["top_ups_terminated"] == "textpay"
    assert everything["closure"]["address"]["line1"] == "1200 E 6TH ST"
    assert rows_of(alone["no_deposit"])["refunds"][0]["needs_review"] is True
    assert rows_of(alone["shortfall"])["closure"]["shortfall_cents"] == 250
    assert rows_of(alone["no_address"])["refunds"][0]["address_line1"] == ""
    assert rows_of(alone["video"])["closure"]["sessions_voided"] == 2

    # rule E9: after commit, one task per closure alone, one per batch (and one for the
    # batch's card refunds); either way each holder gets one email and each card
    # refund is submitted once.
    assert len(one_by_one) == len(SHAPES) + 2  # two shapes refund to a card
    assert len(in_batch) == 2
    for callback in one_by_one + in_batch:
        callback()
    done = after_commit_work(list(alone.values()))
    assert done["emails"] == [1] * len(SHAPES)
    assert after_commit_work(pairs) == {
        "emails": sorted(done["emails"] * 2),
        "unsent": 0,
        "refunds": sorted(done["refunds"] * 2),
    }
    assert FakeCardGateway.refunds_made() == 6
    assert advance_connect_balance_mismatches() == []


def audit_write(sql):
    return any(name in sql for name in ("portal_auditevent", "portal_datakey", "pg_advisory"))


def test_the_batch_reads_and_writes_in_a_fixed_number_of_queries(monkeypatch):
    """The plans of a batch are read, and its rows written, in as many queries for
    twelve accounts as for two (the audit events are written by `audit_records`; rows
    are written the sweeps' way, by COPY on PostgreSQL, at both sizes)."""
    monkeypatch.setattr(db, "COPY_FROM", 1)
    counts = []
    for size in (2, 12):
        accounts = [everything() for _ in range(size)]
        with CaptureQueriesContext(connection) as captured:
            closures_confirm(accounts, actor=SYSTEM, at=NOW, reason=Closure.Reason.INACTIVITY)
        counts.append(len([q for q in captured.captured_queries if not audit_write(q["sql"])]))
    assert counts[0] == counts[1]


def test_accounts_already_closed_are_left_out_and_closed_once():
    first, second = card_refund(), check_refund()
    closure_confirm(account=first, actor=SYSTEM, at=NOW)

    closures = closures_confirm(
        [first, second], actor=SYSTEM, at=NOW, reason=Closure.Reason.INACTIVITY
    )

    assert [closure.account_id for closure in closures] == [second.pk]
    assert Closure.objects.filter(account=first).count() == 1
    assert Refund.objects.count() == 2
    assert CustomerAccount.objects.filter(status="closed").count() == 2
    assert closures_confirm([first, second], actor=SYSTEM, at=NOW, reason="inactivity") == []


def drawn(monkeypatch, *references):
    """`new_closure_reference` gives `references`, in this order."""
    queue = iter(references)
    monkeypatch.setattr("refunds.services.closure.new_closure_reference", lambda: next(queue))


def test_a_reference_already_taken_is_drawn_again(monkeypatch):
    """A random reference a closure already has is drawn again, not left to fail the
    holder's confirmation on the unique index."""
    earlier = closure_confirm(account=card_refund(), actor=SYSTEM, at=NOW)
    drawn(monkeypatch, earlier.reference, "CL-BBBB-BBBB")

    closure = closure_confirm(account=check_refund(), actor=SYSTEM, at=NOW)

    assert closure.reference == "CL-BBBB-BBBB"
    assert Closure.objects.count() == 2


def test_a_batch_gets_references_no_closure_has_and_none_twice(monkeypatch):
    """A sweep batch whose draws repeat each other or an existing closure's reference
    still closes every account, each under a reference of its own."""
    earlier = closure_confirm(account=card_refund(), actor=SYSTEM, at=NOW)
    drawn(monkeypatch, earlier.reference, "CL-CCCC-CCCC", "CL-CCCC-CCCC", "CL-DDDD-DDDD")

    closures = closures_confirm(
        [check_refund(), card_refund()], actor=SYSTEM, at=NOW, reason=Closure.Reason.INACTIVITY
    )

    assert sorted(closure.reference for closure in closures) == ["CL-CCCC-CCCC", "CL-DDDD-DDDD"]
    assert Closure.objects.count() == 3
