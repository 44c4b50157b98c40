"""Two inactivity sweeps at once on PostgreSQL close each due account once (N6)."""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import LedgerEntry
from refunds.models import Closure, InactivityNotice, Refund
from refunds.services.inactivity import inactive_accounts_close
from tests.factories import AdvanceConnectFactory, LedgerEntryFactory
from tests.helpers import postgres_only, run_at_once

pytestmark = postgres_only


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_close_each_due_account_exactly_once():
    long_ago = timezone.now() - dt.timedelta(days=181)
    notified = timezone.now() - dt.timedelta(days=31)
    due = []
    for _ in range(8):
        ac = AdvanceConnectFactory(account__new_mexico=True, account__last_activity_at=long_ago)
        LedgerEntryFactory(advance_connect=ac, amount_cents=1000)
        # rule N3: due only because a notice went out more than 30 days ago
        InactivityNotice.objects.create(
            account=ac.account,
            days_before=30,
            inactive_since=long_ago,
            closes_on=notified.date(),
            created_at=notified,
            sent_at=notified,
        )
        due.append(ac.account.pk)
    never_notified = AdvanceConnectFactory(
        account__new_mexico=True, account__last_activity_at=long_ago
    ).account
    active = AdvanceConnectFactory(account__new_mexico=True).account

    results, errors = run_at_once(2, lambda i: [c.account_id for c in inactive_accounts_close()])

    assert errors == []
    assert sorted(Closure.objects.values_list("account_id", flat=True)) == sorted(due)
    assert Refund.objects.count() == 8
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REFUND).count() == 8
    assert not Closure.objects.filter(account__in=[active, never_notified]).exists()
    # Between them the two sweeps reported each account; neither acted twice.
    assert sorted(results[0] + results[1]) == sorted(set(results[0] + results[1]))
