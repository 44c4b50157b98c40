"""Rule B7: two erasure sweeps at once on PostgreSQL erase each account exactly once."""

import datetime as dt

import pytest

from portal.models import AuditEvent
from refunds.models import ErasureRecord
from refunds.services import closure_confirm
from refunds.services.card_refunds import card_refund_submit
from refunds.services.erasure import identities_erase, records_erase
from refunds.services.transitions import card_refund_mark_settled
from tests.factories import AdvanceConnectFactory, LedgerEntryFactory
from tests.helpers import postgres_only, run_at_once

pytestmark = postgres_only

DAY0 = dt.datetime(2026, 1, 5, 15, 0, tzinfo=dt.timezone.utc)


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_erase_each_account_once_per_stage():
    for _ in range(5):
        ac = AdvanceConnectFactory()
        LedgerEntryFactory(advance_connect=ac, amount_cents=1500)
        closure = closure_confirm(account=ac.account, actor=None, at=DAY0)
        refund = closure.refunds.get()
        card_refund_submit(refund_id=refund.pk, now=DAY0)
        card_refund_mark_settled(refund=refund, actor="system", at=DAY0 + dt.timedelta(days=3))

    stage1 = DAY0 + dt.timedelta(days=93)
    results, errors = run_at_once(2, lambda i: [r.account_id for r in identities_erase(now=stage1)])
    assert errors == []
    assert len(results[0] + results[1]) == len(set(results[0] + results[1])) == 5

    stage2 = dt.datetime(2033, 1, 8, 15, 0, tzinfo=dt.timezone.utc)
    results, errors = run_at_once(2, lambda i: [r.account_id for r in records_erase(now=stage2)])
    assert errors == []
    assert len(results[0] + results[1]) == len(set(results[0] + results[1])) == 5
    assert ErasureRecord.objects.count() == 10
    assert AuditEvent.objects.filter(action__startswith="erasure.").count() == 10
