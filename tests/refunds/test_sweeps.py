"""Daily sweeps with a pinned clock: Direct Bill holds (E5, §4) and stale checks (§3)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from accounts.models import DirectBillStatement
from portal.actors import SYSTEM
from refunds.models import Closure, Refund
from refunds.services import closure_confirm
from refunds.services.sweeps import (
    direct_bill_holds_process,
    stale_checks_mark,
    statements_mark_past_due,
)
from refunds.services.transitions import refund_mark_issued, refund_mark_mailed
from tests.factories import (
    AdvanceConnectFactory,
    DirectBillChargeFactory,
    DirectBillFactory,
    LedgerEntryFactory,
)

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
REQUESTED = dt.datetime(2026, 11, 2, 9, 0, tzinfo=CHICAGO)  # a Monday


def day(n, hour=6):
    return (REQUESTED + dt.timedelta(days=n)).replace(hour=hour)


def direct_bill_closure(*charges):
    direct_bill = DirectBillFactory()
    for cents in charges:
        DirectBillChargeFactory(
            direct_bill=direct_bill,
            amount_cents=cents,
            occurred_at=REQUESTED - dt.timedelta(days=3),
        )
    return closure_confirm(account=direct_bill.account, actor=SYSTEM, at=REQUESTED), direct_bill


def test_direct_bill_timeline_hold_then_final_statement_then_past_due():
    closure, direct_bill = direct_bill_closure(415, 1290)
    # Days 1-6: held, nothing happens.
    for n in range(0, 7):
        assert direct_bill_holds_process(now=day(n)) == []
    closure.refresh_from_db()
    assert closure.direct_bill_outcome == Closure.DirectBillOutcome.HELD

    # A call that was not billed yet clears during the hold and is on the final bill.
    DirectBillChargeFactory(direct_bill=direct_bill, amount_cents=95, occurred_at=day(2))
    # Day 7: the final statement, due 20 days after its date.
    settled = direct_bill_holds_process(now=day(7))
    assert [c.pk for c in settled] == [closure.pk]
    closure.refresh_from_db()
    statement = closure.final_statement
    assert closure.direct_bill_outcome == Closure.DirectBillOutcome.FINAL_STATEMENT
    assert statement.is_final
    assert statement.statement_date == dt.date(2026, 11, 9)
    assert statement.amount_cents == 1800
    assert statement.due_date == dt.date(2026, 11, 29)
    # Running again (or on day 8-10) changes nothing.
    for n in (7, 8, 10):
        assert direct_bill_holds_process(now=day(n)) == []
    assert DirectBillStatement.objects.filter(is_final=True).count() == 1

    # Due date itself: still just issued. The day after: past due.
    assert statements_mark_past_due(now=day(27, hour=20)) == []
    assert [s.pk for s in statements_mark_past_due(now=day(28))] == [statement.pk]
    statement.refresh_from_db()
    assert statement.status == DirectBillStatement.Status.PAST_DUE


def test_direct_bill_with_nothing_outstanding_closes_with_no_invoice():
    closure, direct_bill = direct_bill_closure()
    direct_bill_holds_process(now=day(7))
    closure.refresh_from_db()
    assert closure.direct_bill_outcome == Closure.DirectBillOutcome.CLOSED_NO_INVOICE
    assert closure.final_statement is None
    direct_bill.refresh_from_db()
    assert direct_bill.closed_at == day(7)


def test_a_missed_run_still_settles_by_day_ten():
    closure, _ = direct_bill_closure(500)
    assert len(direct_bill_holds_process(now=day(10))) == 1
    closure.refresh_from_db()
    assert closure.final_statement.statement_date == dt.date(2026, 11, 12)


def test_a_check_uncashed_180_days_after_issue_goes_stale():
    ac = AdvanceConnectFactory()
    LedgerEntryFactory(advance_connect=ac, by_mail=True, amount_cents=2000)
    refund = closure_confirm(account=ac.account, actor=SYSTEM, at=REQUESTED).refunds.get()
    refund = refund_mark_issued(
        refund=refund, actor=SYSTEM, check_number="100200", issued_on=dt.date(2026, 11, 5)
    )
    refund_mark_mailed(refund=refund, actor=SYSTEM, mailed_on=dt.date(2026, 11, 6))
    assert stale_checks_mark(now=dt.datetime(2027, 5, 3, 12, tzinfo=CHICAGO)) == []  # day 179
    stale = stale_checks_mark(now=dt.datetime(2027, 5, 4, 12, tzinfo=CHICAGO))  # day 180
    assert [r.pk for r in stale] == [refund.pk]
    refund.refresh_from_db()
    assert refund.status == Refund.Status.STALE
    assert stale_checks_mark(now=dt.datetime(2027, 5, 5, 12, tzinfo=CHICAGO)) == []


def test_the_daily_commands_run(capsys):
    direct_bill_closure(700)
    call_command("process_direct_bill_holds")
    call_command("mark_stale_checks")
    out = capsys.readouterr().out
    assert "Settled 1 Direct Bill closure(s)" in out
    assert "Marked 0 check(s) stale." in out
