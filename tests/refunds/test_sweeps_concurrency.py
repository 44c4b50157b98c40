"""Two Direct Bill sweeps at once on PostgreSQL issue each final statement once (E5, N6)."""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import DirectBillCharge, DirectBillStatement
from portal.actors import SYSTEM
from refunds.models import Closure, HolderNotice
from refunds.services import closure_confirm
from refunds.services.sweeps import direct_bill_holds_process
from tests.factories import DirectBillChargeFactory, DirectBillFactory
from tests.helpers import postgres_only, run_at_once

pytestmark = postgres_only


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_create_each_final_statement_exactly_once():
    requested = timezone.now() - dt.timedelta(days=8)
    for n in range(6):
        direct_bill = DirectBillFactory()
        if n % 3:  # two of six owe nothing and close with no invoice
            DirectBillChargeFactory.create_batch(3, direct_bill=direct_bill, amount_cents=250)
        closure_confirm(account=direct_bill.account, actor=SYSTEM, at=requested)

    results, errors = run_at_once(2, lambda i: [c.pk for c in direct_bill_holds_process()])

    assert errors == []
    assert sorted(results[0] + results[1]) == sorted(Closure.objects.values_list("pk", flat=True))
    assert DirectBillStatement.objects.filter(is_final=True).count() == 4
    assert not DirectBillCharge.objects.filter(statement__isnull=True).exists()
    outcomes = sorted(Closure.objects.values_list("direct_bill_outcome", flat=True))
    assert outcomes == ["closed_no_invoice"] * 2 + ["final_statement"] * 4
    assert HolderNotice.objects.count() == 6  # one email per closure, either kind
