"""New Mexico inactivity closures with a pinned clock (SPEC N1-N3, N6)."""

import datetime as dt

import pytest
from django.core import mail
from django.core.management import call_command

from accounts.models import CustomerAccount
from accounts.services import Activity, account_record_activity
from refunds.models import Closure, InactivityNotice, Refund
from refunds.services.inactivity import inactive_accounts_close, inactivity_notices_send
from tests.factories import AdvanceConnectFactory, LedgerEntryFactory

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.timezone.utc)


def day(n, hours=1):
    return START + dt.timedelta(days=n, hours=hours)


@pytest.fixture
def nm_account():
    ac = AdvanceConnectFactory(account__new_mexico=True, account__last_activity_at=START)
    LedgerEntryFactory(advance_connect=ac, amount_cents=2600, occurred_at=START)
    return ac.account


def run_daily(at, capture):
    with capture(execute=True):
        inactivity_notices_send(now=at)
        return inactive_accounts_close(now=at)


def test_notified_at_day_150_and_173_and_closed_at_day_180(
    nm_account, django_capture_on_commit_callbacks
):
    for n in range(0, 150):
        run_daily(day(n), django_capture_on_commit_callbacks)
    assert mail.outbox == []

    run_daily(day(150), django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
    assert "August 29, 2026" in mail.outbox[0].subject  # day 180
    for n in range(151, 173):
        run_daily(day(n), django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1

    run_daily(day(173), django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 2
    assert [n.days_before for n in InactivityNotice.objects.order_by("id")] == [30, 7]
    for n in range(174, 180):
        assert run_daily(day(n), django_capture_on_commit_callbacks) == []

    closures = run_daily(day(180), django_capture_on_commit_callbacks)
    assert len(closures) == 1
    closure = Closure.objects.get(account=nm_account)
    assert closure.reason == Closure.Reason.INACTIVITY
    assert closure.closed_by is None
    # rule N3: the balance is refunded by the E4 rule (last deposit by card here).
    refund = closure.refunds.get()
    assert (refund.method, refund.amount_cents) == (Refund.Method.CARD, 2600)
    nm_account.refresh_from_db()
    assert nm_account.status == CustomerAccount.Status.CLOSED
    assert any("Your account is closed" in m.subject for m in mail.outbox[2:])


def test_a_sign_in_at_day_170_restarts_the_clock(nm_account, django_capture_on_commit_callbacks):
    run_daily(day(150), django_capture_on_commit_callbacks)
    account_record_activity(account=nm_account, kind=Activity.SIGN_IN, at=day(170))
    for n in (173, 180, 200):
        assert run_daily(day(n), django_capture_on_commit_callbacks) == []
    # The new period gets its own notices and ends 180 days after the sign-in.
    run_daily(day(320), django_capture_on_commit_callbacks)
    assert InactivityNotice.objects.filter(inactive_since=day(170)).count() == 1
    assert run_daily(day(349), django_capture_on_commit_callbacks) == []
    assert len(run_daily(day(350), django_capture_on_commit_callbacks)) == 1


def test_only_new_mexico_accounts_are_closed(django_capture_on_commit_callbacks):
    texas = AdvanceConnectFactory(account__last_activity_at=START).account
    assert run_daily(day(400), django_capture_on_commit_callbacks) == []
    texas.refresh_from_db()
    assert texas.status == CustomerAccount.Status.OPEN


def test_before_may_2023_nothing_is_closed():
    AdvanceConnectFactory(
        account__new_mexico=True,
        account__last_activity_at=dt.datetime(2022, 1, 1, tzinfo=dt.timezone.utc),
    )
    assert inactive_accounts_close(now=dt.datetime(2023, 4, 30, tzinfo=dt.timezone.utc)) == []
    closed = inactive_accounts_close(now=dt.datetime(2023, 5, 1, 12, tzinfo=dt.timezone.utc))
    assert len(closed) == 1


def test_running_the_sweep_twice_closes_and_notifies_once(nm_account):
    call_command("close_inactive_accounts", stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("close_inactive_accounts", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Closure.objects.count() == 1
    assert Refund.objects.count() == 1
