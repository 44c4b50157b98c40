"""Concurrency on PostgreSQL: row locks make the closure happen exactly once (D5, E3)."""

import pytest
from django.utils import timezone

from accounts.models import LedgerEntry
from accounts.selectors import advance_connect_summary
from accounts.services import AccountClosed, call_charge_post
from portal.actors import SYSTEM
from refunds.models import Closure, Refund
from refunds.services import closure_confirm
from tests.factories import AdvanceConnectFactory, LedgerEntryFactory
from tests.helpers import postgres_only, run_at_once

pytestmark = postgres_only


@pytest.mark.django_db(transaction=True)
def test_twenty_confirmations_at_once_make_one_closure_one_refund_one_set_of_entries():
    ac = AdvanceConnectFactory()
    LedgerEntryFactory(advance_connect=ac, amount_cents=5000)
    LedgerEntryFactory(advance_connect=ac, unsettled_call=True, amount_cents=315)
    account = ac.account

    results, errors = run_at_once(
        20, lambda i: closure_confirm(account=account, actor=account.holder).pk
    )

    assert errors == []
    assert len(set(results)) == 1
    assert Closure.objects.count() == 1
    assert Refund.objects.get().amount_cents == 4685
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REFUND).count() == 1
    assert advance_connect_summary(ac).balance_cents == 0


@pytest.mark.django_db(transaction=True)
def test_a_call_charge_during_the_closure_is_deducted_or_refused_never_lost():
    for _ in range(5):
        ac = AdvanceConnectFactory()
        LedgerEntryFactory(advance_connect=ac, amount_cents=5000)
        account = ac.account

        def act(i, ac=ac, account=account):
            if i == 0:
                return closure_confirm(account=account, actor=SYSTEM)
            return call_charge_post(
                advance_connect=ac,
                number_called="5125550100",
                amount_cents=250,
                at=timezone.now(),
            )

        results, errors = run_at_once(2, act)
        closure = Closure.objects.get(account=account)
        charged = LedgerEntry.objects.filter(
            advance_connect=ac, kind=LedgerEntry.Kind.CALL_CHARGE
        ).count()
        if errors:
            # Refused after the closure: no charge row, full refund.
            assert [type(e) for e in errors] == [AccountClosed]
            assert charged == 0
            assert closure.refund_cents == 5000
        else:
            # Posted before: deducted by the closure, exactly once.
            assert charged == 1
            assert closure.deducted_cents == 250
            assert closure.refund_cents == 4750
        assert advance_connect_summary(ac).balance_cents == 0
