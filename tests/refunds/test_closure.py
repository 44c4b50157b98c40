"""The closure service: rules E1-E9 and the refund rule E4, with a pinned clock."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import IntegrityError, transaction

from accounts.models import (
    LedgerEntry,
    StampEntry,
    TopUpEnrolment,
    VideoSession,
    VideoSubscription,
)
from accounts.selectors import advance_connect_summary
from accounts.services import AccountClosed, call_charge_post
from portal.actors import SYSTEM
from portal.models import AuditEvent
from refunds.models import Closure, Refund
from refunds.services import closure_confirm, closure_plan
from tests.factories import (
    AdvanceConnectFactory,
    CustomerAccountFactory,
    DirectBillChargeFactory,
    DirectBillFactory,
    EMessagingFactory,
    LedgerEntryFactory,
    SecurusDebitFactory,
    TopUpEnrolmentFactory,
    VideoSessionFactory,
    VideoSubscriptionFactory,
)

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
# Monday 16 November 2026, 10:00 in Chicago.
NOW = dt.datetime(2026, 11, 16, 10, 0, tzinfo=CHICAGO)


def closed_emails():
    return [m for m in mail.outbox if "Your account is closed" in m.subject]


def prepaid(*, deposits, settled=(), unsettled=(), at=NOW):
    """An AdvanceConnect account: deposits as (cents, method trait, days ago)."""
    advance_connect = AdvanceConnectFactory()
    for cents, trait, days_ago in deposits:
        LedgerEntryFactory(
            advance_connect=advance_connect,
            amount_cents=cents,
            occurred_at=at - dt.timedelta(days=days_ago),
            **({trait: True} if trait else {}),
        )
    for cents in settled:
        LedgerEntryFactory(
            advance_connect=advance_connect,
            settled_call=True,
            amount_cents=cents,
            occurred_at=at - dt.timedelta(days=3),
        )
    for cents, hours_ago in unsettled:
        LedgerEntryFactory(
            advance_connect=advance_connect,
            unsettled_call=True,
            amount_cents=cents,
            occurred_at=at - dt.timedelta(hours=hours_ago),
        )
    return advance_connect


def test_card_holder_gets_the_whole_remaining_balance_back_on_the_card():
    # The card@demo.test scenario: $42.50 after settled calls, $3.15 and $1.05 unsettled.
    ac = prepaid(deposits=[(5000, None, 20)], settled=[750], unsettled=[(315, 2), (105, 20)])
    closure = closure_confirm(account=ac.account, actor=ac.account.holder, at=NOW)

    # rule E3: the unsettled calls are deducted first.
    assert closure.balance_before_cents == 4250
    assert closure.deducted_cents == 420
    # rule E4: online card -> card refund of all that is left, due in 3 business days.
    refund = closure.refunds.get()
    assert refund.method == Refund.Method.CARD
    assert refund.amount_cents == 3830  # rule B4: the whole $38.30, no fee taken
    assert refund.status == Refund.Status.PENDING
    assert (refund.card_brand, refund.card_last4) == ("Visa", "4242")
    assert refund.due_date == dt.date(2026, 11, 19)  # Thursday
    # The ledger ends at zero: nothing left to pay for calls, nothing refunded twice.
    summary = advance_connect_summary(ac)
    assert (summary.balance_cents, summary.unsettled_cents) == (0, 0)


def test_unsettled_charges_older_than_a_day_are_deducted_too():
    ac = prepaid(deposits=[(2000, None, 20)], unsettled=[(300, 30), (200, 2)])
    closure = closure_confirm(account=ac.account, actor=SYSTEM, at=NOW)
    assert closure.deducted_cents == 500
    assert closure.refunds.get().amount_cents == 1500


def test_charges_larger_than_the_balance_mean_no_refund_and_a_recorded_shortfall():
    ac = prepaid(deposits=[(500, None, 20)], unsettled=[(450, 3), (300, 1)])
    closure = closure_confirm(account=ac.account, actor=SYSTEM, at=NOW)
    assert closure.refund_cents == 0
    assert closure.shortfall_cents == 250
    assert not closure.refunds.exists()
    # Recorded, not charged: the ledger is brought back to zero by a write-off entry.
    assert advance_connect_summary(ac).balance_cents == 0
    shortfall = LedgerEntry.objects.get(advance_connect=ac, kind=LedgerEntry.Kind.SHORTFALL)
    assert shortfall.amount_cents == 250


def test_zero_balance_closes_with_no_refund():
    ac = prepaid(deposits=[(1000, None, 20)], settled=[1000])
    closure = closure_confirm(account=ac.account, actor=SYSTEM, at=NOW)
    assert (closure.refund_cents, closure.shortfall_cents) == (0, 0)
    assert not Refund.objects.exists()


@pytest.mark.parametrize(
    ("trait", "method"),
    [
        ("by_mail", Refund.Method.CHECK),
        ("by_moneygram", Refund.Method.CHECK),
        ("by_western_union", Refund.Method.CHECK),
        (None, Refund.Method.CARD),
    ],
)
def test_the_most_recent_deposit_decides_the_method(trait, method):
    earlier = "by_mail" if trait is None else None
    ac = prepaid(deposits=[(1000, earlier, 40), (1000, trait, 10)])
    refund = closure_confirm(account=ac.account, actor=SYSTEM, at=NOW).refunds.get()
    assert refund.method == method
    assert refund.amount_cents == 2000
    if method == Refund.Method.CHECK:
        # rule E4: a check is mailed within 21 calendar days, to the address on record.
        assert refund.due_date == dt.date(2026, 12, 7)
        assert refund.address_lines() == ["1200 E 6TH ST", "AUSTIN TX 78702"]
        assert refund.needs_review is False


def test_a_card_deposit_after_earlier_mail_deposits_goes_back_to_the_card():
    ac = prepaid(deposits=[(3000, "by_mail", 60), (2000, "by_mail", 30), (500, None, 2)])
    refund = closure_confirm(account=ac.account, actor=SYSTEM, at=NOW).refunds.get()
    assert refund.method == Refund.Method.CARD
    assert refund.amount_cents == 5500


def test_no_deposit_at_all_means_a_check_flagged_for_review():
    ac = AdvanceConnectFactory()
    LedgerEntryFactory(
        advance_connect=ac, kind=LedgerEntry.Kind.SHORTFALL, method="", amount_cents=700
    )
    refund = closure_confirm(account=ac.account, actor=SYSTEM, at=NOW).refunds.get()
    assert refund.method == Refund.Method.CHECK
    assert refund.needs_review is True


@pytest.mark.parametrize(
    ("closed_at", "due"),
    [
        # Wednesday before Thanksgiving: Thu 26 (holiday), Fri 27, Mon 30, Tue 1 Dec.
        (dt.datetime(2026, 11, 25, 15, 0, tzinfo=CHICAGO), dt.date(2026, 12, 1)),
        # Wednesday 23 December: Thu 24, Fri 25 (Christmas), Mon 28, Tue 29.
        (dt.datetime(2026, 12, 23, 9, 0, tzinfo=CHICAGO), dt.date(2026, 12, 29)),
        # Late evening in Chicago is already the next day in UTC; Chicago's date counts.
        (dt.datetime(2026, 11, 20, 23, 30, tzinfo=CHICAGO), dt.date(2026, 11, 25)),
    ],
)
def test_card_due_date_skips_weekends_and_federal_reserve_holidays(closed_at, due):
    """Rules E4, S0: business days skip Federal Reserve holidays, counted in Chicago."""
    ac = prepaid(deposits=[(1000, None, 5)], at=closed_at)
    refund = closure_confirm(account=ac.account, actor=SYSTEM, at=closed_at).refunds.get()
    assert refund.due_date == due


def test_direct_bill_only_is_held_seven_to_ten_days_with_no_refund():
    direct_bill = DirectBillFactory()
    DirectBillChargeFactory(direct_bill=direct_bill, amount_cents=640)
    closure = closure_confirm(account=direct_bill.account, actor=SYSTEM, at=NOW)
    # rule E5
    assert closure.direct_bill_outcome == Closure.DirectBillOutcome.HELD
    assert closure.direct_bill_hold_from == dt.date(2026, 11, 23)
    assert closure.direct_bill_hold_until == dt.date(2026, 11, 26)
    assert not Refund.objects.exists()


def test_video_sessions_in_the_future_are_voided_and_past_ones_left_alone():
    account = CustomerAccountFactory()
    future = VideoSessionFactory(account=account, starts_at=NOW + dt.timedelta(days=2))
    later = VideoSessionFactory(account=account, starts_at=NOW + dt.timedelta(days=9))
    past = VideoSessionFactory(account=account, past=True, starts_at=NOW - dt.timedelta(days=1))
    subscription = VideoSubscriptionFactory(account=account)
    closure = closure_confirm(account=account, actor=SYSTEM, at=NOW)
    # rule E8
    assert closure.sessions_voided == 2
    assert closure.subscriptions_cancelled == 1
    for session in (future, later):
        session.refresh_from_db()
        assert session.status == VideoSession.Status.VOIDED
    past.refresh_from_db()
    assert past.status == VideoSession.Status.COMPLETED
    subscription.refresh_from_db()
    assert subscription.status == VideoSubscription.Status.CANCELLED
    assert subscription.cancelled_at == NOW


def test_an_account_with_every_service_at_once(django_capture_on_commit_callbacks):
    ac = prepaid(deposits=[(2500, "by_mail", 10)], unsettled=[(100, 5)])
    account = ac.account
    textpay = TopUpEnrolmentFactory(account=account, kind=TopUpEnrolment.Kind.TEXTPAY)
    autopay = TopUpEnrolmentFactory(account=account, kind=TopUpEnrolment.Kind.AUTOPAY)
    DirectBillChargeFactory(direct_bill=DirectBillFactory(account=account), amount_cents=900)
    debit = SecurusDebitFactory(account=account, balance_cents=3100)
    emessaging = EMessagingFactory(account=account, stamps=12)
    VideoSessionFactory(account=account, starts_at=NOW + dt.timedelta(days=1))
    VideoSubscriptionFactory(account=account)

    with django_capture_on_commit_callbacks(execute=True):
        closure = closure_confirm(account=account, actor=account.holder, at=NOW)

    assert closure.refunds.get().amount_cents == 2400  # E3 + E4
    for top_up in (textpay, autopay):  # E2
        top_up.refresh_from_db()
        assert top_up.terminated_at == NOW
    assert closure.top_ups_terminated == "autopay,textpay"
    assert closure.direct_bill_outcome == Closure.DirectBillOutcome.HELD  # E5
    debit.refresh_from_db()  # E6: untouched
    assert debit.balance_cents == 3100
    assert closure.debit_untouched_cents == 3100
    forfeit = StampEntry.objects.get(emessaging=emessaging, kind=StampEntry.Kind.FORFEIT)
    assert forfeit.stamps == closure.stamps_forfeited == 12  # E7
    assert (closure.sessions_voided, closure.subscriptions_cancelled) == (1, 1)  # E8
    # E1
    account.refresh_from_db()
    account.holder.refresh_from_db()
    assert account.status == "closed" and account.closed_at == NOW
    assert account.holder.is_active is False
    # E9: audit rows and one confirmation email.
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert actions == ["refund.created", "closure.confirmed"]
    assert len(mail.outbox) == 1
    assert closure.reference in mail.outbox[0].subject
    assert "$24.00" in mail.outbox[0].body


def test_preview_and_closure_agree():
    ac = prepaid(deposits=[(4000, None, 3)], unsettled=[(125, 1)])
    plan = closure_plan(account=ac.account, at=NOW)
    closure = closure_confirm(account=ac.account, actor=SYSTEM, at=NOW)
    refund = closure.refunds.get()
    assert (plan.refund.amount_cents, plan.refund.method, plan.refund.due_date) == (
        refund.amount_cents,
        refund.method,
        refund.due_date,
    )


def test_confirming_twice_returns_the_same_closure_and_changes_nothing_more(
    django_capture_on_commit_callbacks,
):
    ac = prepaid(deposits=[(4000, None, 3)])
    with django_capture_on_commit_callbacks(execute=True):
        first = closure_confirm(account=ac.account, actor=SYSTEM, at=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        second = closure_confirm(account=ac.account, actor=SYSTEM, at=NOW + dt.timedelta(seconds=1))
    assert first.pk == second.pk
    assert Closure.objects.count() == 1
    assert Refund.objects.count() == 1
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REFUND).count() == 1
    assert len(closed_emails()) == 1


def test_a_second_original_refund_for_a_closure_is_refused_by_the_database():
    ac = prepaid(deposits=[(4000, None, 3)])
    refund = closure_confirm(account=ac.account, actor=SYSTEM, at=NOW).refunds.get()
    refund.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        refund.save()


def test_a_closed_account_cannot_pay_for_calls():
    ac = prepaid(deposits=[(4000, None, 3)])
    closure_confirm(account=ac.account, actor=SYSTEM, at=NOW)
    with pytest.raises(AccountClosed):
        call_charge_post(advance_connect=ac, number_called="5125550100", amount_cents=100, at=NOW)
    assert not LedgerEntry.objects.filter(kind=LedgerEntry.Kind.CALL_CHARGE).exists()


def test_an_email_that_fails_never_undoes_the_closure(
    monkeypatch, django_capture_on_commit_callbacks
):
    ac = prepaid(deposits=[(4000, None, 3)])

    def broken(*args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", broken)
    with django_capture_on_commit_callbacks(execute=True):
        closure = closure_confirm(account=ac.account, actor=SYSTEM, at=NOW)
    closure.refresh_from_db()
    assert closure.confirmation_emailed_at is None
    ac.account.refresh_from_db()
    assert ac.account.status == "closed"

    monkeypatch.undo()
    call_command("retry_pending_work", stdout=open("/dev/null", "w"))  # noqa: SIM115
    closure.refresh_from_db()
    assert closure.confirmation_emailed_at is not None
    assert len(closed_emails()) == 1
