"""Concurrency on PostgreSQL: ledger writes at once never lose a move of the kept balance."""

import datetime as dt

import pytest

from accounts.models import LedgerEntry, PurchaseMethod
from accounts.selectors import advance_connect_balance_mismatches
from accounts.services import ledger_entries_post
from tests.factories import AdvanceConnectFactory
from tests.helpers import postgres_only, run_at_once

pytestmark = postgres_only

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)


@pytest.mark.django_db(transaction=True)
def test_twelve_ledger_writes_at_once_lose_no_update():
    ac = AdvanceConnectFactory()
    threads = 12

    def write(i):
        # No account lock here: only the F() expressions in the UPDATE keep the sums.
        ledger_entries_post(
            entries=[
                LedgerEntry(
                    advance_connect=ac,
                    kind=LedgerEntry.Kind.DEPOSIT,
                    amount_cents=100 * (i + 1),
                    occurred_at=NOW,
                    method=PurchaseMethod.MAIL,
                ),
                LedgerEntry(
                    advance_connect=ac,
                    kind=LedgerEntry.Kind.CALL_CHARGE,
                    amount_cents=i + 1,
                    occurred_at=NOW,
                    number_called="+15125550100",
                ),
            ]
        )

    _, errors = run_at_once(threads, write)

    assert errors == []
    ac.refresh_from_db()
    assert (ac.balance_cents, ac.unsettled_cents, ac.unsettled_count) == (7800, 78, 12)
    assert ac.entries.count() == 24
    assert advance_connect_balance_mismatches() == []
