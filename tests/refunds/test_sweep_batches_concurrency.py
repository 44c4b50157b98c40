"""Two bulk sweeps at once on PostgreSQL, in batches small enough to interleave, share
the rows and act on each exactly once (rule N6, SPEC §3)."""

import datetime as dt
from collections import Counter

import pytest
from django.utils import timezone

from accounts.models import LedgerEntry
from accounts.selectors import advance_connect_balance_mismatches
from portal.business_calendar import business_date
from portal.models import AuditEvent
from refunds.models import Closure, Refund
from refunds.services.inactivity import inactive_accounts_close
from refunds.services.sweeps import stale_checks_mark
from tests.factories.refunds import RefundFactory, inactive_nm_account
from tests.helpers import postgres_only, run_at_once

pytestmark = postgres_only

DUE = 300


def audited_once(action, object_ids):
    counts = Counter(AuditEvent.objects.filter(action=action).values_list("object_id", flat=True))
    return sorted(counts) == sorted(str(pk) for pk in object_ids) and set(counts.values()) == {1}


@pytest.mark.django_db(transaction=True)
def test_two_inactivity_sweeps_at_once_close_each_of_300_due_accounts_once():
    now = timezone.now()
    due = [inactive_nm_account(now, **({"by_mail": True} if n % 3 else {})).pk for n in range(DUE)]
    not_yet = [inactive_nm_account(now, notified_days_ago=n % 2 and 3 or None).pk for n in range(6)]

    results, errors = run_at_once(
        2, lambda i: [c.account_id for c in inactive_accounts_close(now=now, batch_size=50)]
    )

    assert errors == []
    # Between them the two sweeps closed each due account, and neither closed one twice.
    assert sorted(results[0] + results[1]) == sorted(due)
    closed = list(Closure.objects.values_list("account_id", flat=True))
    assert sorted(closed) == sorted(due)  # one closure each, none for the others
    assert not set(not_yet) & set(closed)
    refunds = Refund.objects.all()
    assert sorted(refunds.values_list("closure__account_id", flat=True)) == sorted(due)
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REFUND).count() == DUE
    assert advance_connect_balance_mismatches() == []
    assert audited_once("closure.confirmed", Closure.objects.values_list("pk", flat=True))
    assert audited_once("refund.created", refunds.values_list("pk", flat=True))
    # rule E9: each holder emailed once (the immediate task backend sent them on commit)
    assert not Closure.objects.filter(confirmation_emailed_at__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_two_stale_check_sweeps_at_once_mark_each_of_300_checks_once():
    issued_on = business_date(timezone.now()) - dt.timedelta(days=200)
    checks = [RefundFactory(issued=True, issued_on=issued_on).pk for _ in range(DUE)]
    recent = RefundFactory(issued=True).pk

    results, errors = run_at_once(
        2, lambda i: [refund.pk for refund in stale_checks_mark(batch_size=50)]
    )

    assert errors == []
    assert sorted(results[0] + results[1]) == sorted(checks)
    assert set(Refund.objects.filter(status="stale").values_list("pk", flat=True)) == set(checks)
    assert Refund.objects.get(pk=recent).status == "issued"
    assert audited_once("refund.stale", checks)
