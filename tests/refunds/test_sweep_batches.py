"""The daily sweeps in batches, with a pinned clock: the inactivity sweep closes and
notifies exactly the accounts due (rules N3, N6) and stale checks are marked with the
audit events of the one-check move (SPEC §3), whatever the batch size."""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.selectors import advance_connect_balance_mismatches
from portal.actors import SYSTEM
from portal.audit import audit_event_open
from portal.business_calendar import business_date
from portal.models import AuditEvent
from refunds.models import Closure, InactivityNotice, Refund
from refunds.services.inactivity import inactive_accounts_close, inactivity_notices_send
from refunds.services.sweeps import stale_checks_mark
from refunds.services.transitions import refund_mark_stale
from tests.factories import AdvanceConnectFactory, LedgerEntryFactory
from tests.factories.refunds import RefundFactory, inactive_nm_account

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 16, 17, 0, tzinfo=dt.timezone.utc)


def test_the_inactivity_sweep_in_batches_of_two_closes_exactly_the_due_accounts():
    due, not_due = [], []
    for n in range(5):
        due.append(inactive_nm_account(NOW, **({"by_mail": True} if n % 2 else {})))
        # rule N3: never closed without a notice, nor before 30 days after it
        not_due.append(inactive_nm_account(NOW, notified_days_ago=None if n % 2 else 10))
    active = AdvanceConnectFactory(account__new_mexico=True).account
    texas = inactive_nm_account(NOW)
    texas.service_state = "TX"
    texas.save(update_fields=["service_state"])

    closures = inactive_accounts_close(now=NOW, batch_size=2)

    assert [closure.account_id for closure in closures] == [account.pk for account in due]
    assert sorted(Closure.objects.values_list("account_id", flat=True)) == [a.pk for a in due]
    assert all(closure.reason == Closure.Reason.INACTIVITY for closure in closures)
    methods = sorted(Refund.objects.values_list("method", "amount_cents"))
    assert methods == [("card", 1000)] * 3 + [("check", 1000)] * 2
    assert advance_connect_balance_mismatches() == []
    assert not Closure.objects.filter(account__in=[*not_due, active, texas]).exists()
    assert inactive_accounts_close(now=NOW, batch_size=2) == []  # rule N6: once


def test_the_notices_in_batches_of_two_go_to_exactly_the_accounts_due_one(
    django_capture_on_commit_callbacks,
):
    def inactive_for(days, **holder):
        since = NOW - dt.timedelta(days=days)
        ac = AdvanceConnectFactory(
            account__new_mexico=True, account__last_activity_at=since, **holder
        )
        LedgerEntryFactory(advance_connect=ac, amount_cents=900, occurred_at=since)
        return ac.account

    first = [inactive_for(155), inactive_for(160), inactive_for(170)]
    letter = inactive_for(160, account__holder__email="")
    too_early = inactive_for(140)
    final = inactive_for(175)
    InactivityNotice.objects.create(
        account=final,
        days_before=30,
        inactive_since=final.last_activity_at,
        closes_on=business_date(NOW) + dt.timedelta(days=5),
        created_at=NOW - dt.timedelta(days=25),
        sent_at=NOW - dt.timedelta(days=25),
    )

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notices = inactivity_notices_send(now=NOW, batch_size=2)

    made = [(notice.account_id, notice.days_before, notice.channel) for notice in notices]
    # rule N3: the first notice 30 days ahead (a letter without an email), then the last, 7.
    assert made == [
        *[(account.pk, 30, "email") for account in first],
        (letter.pk, 30, "letter"),
        (final.pk, 7, "email"),
    ]
    assert len(callbacks) == 3  # one email task per batch that has emails
    assert InactivityNotice.objects.filter(sent_at__isnull=False).count() == 5
    assert not InactivityNotice.objects.filter(account=too_early).exists()
    assert inactivity_notices_send(now=NOW, batch_size=2) == []


def opened(event):
    values = audit_event_open(event)
    return (event.action, event.actor_label, event.occurred_at, values["before"], values["after"])


def test_stale_checks_in_batches_get_the_audit_events_of_one_check_marked_alone():
    today = business_date(timezone.now())
    long_ago = today - dt.timedelta(days=200)
    alone = [RefundFactory(issued=True, issued_on=long_ago), RefundFactory(mailed=True)]
    Refund.objects.filter(pk=alone[1].pk).update(issued_on=long_ago)
    batched = [RefundFactory(issued=True, issued_on=long_ago) for _ in range(3)]
    batched += [RefundFactory(mailed=True) for _ in range(2)]
    Refund.objects.filter(pk__in=[r.pk for r in batched[3:]]).update(issued_on=long_ago)
    recent = RefundFactory(issued=True, issued_on=today - dt.timedelta(days=179))
    now = timezone.now()
    for refund in alone:
        refund_mark_stale(refund=Refund.objects.get(pk=refund.pk), actor=SYSTEM, at=now)

    stale = stale_checks_mark(now=now, batch_size=2)

    assert sorted(refund.pk for refund in stale) == [refund.pk for refund in batched]
    assert set(Refund.objects.filter(status="stale").values_list("pk", flat=True)) == {
        refund.pk for refund in alone + batched
    }
    assert Refund.objects.get(pk=recent.pk).status == "issued"

    def events(refunds):
        rows = AuditEvent.objects.filter(
            action="refund.stale", object_id__in=[str(refund.pk) for refund in refunds]
        )
        return sorted((opened(event) for event in rows), key=repr)

    assert events(alone) == [
        ("refund.stale", "system", now, {"status": "issued"}, {"status": "stale"}),
        ("refund.stale", "system", now, {"status": "mailed"}, {"status": "stale"}),
    ]
    issued, mailed = events(alone)
    assert events(batched) == [issued] * 3 + [mailed] * 2
    fields = ["status", "status_changed_at", "status_reason"]
    assert {tuple(Refund.objects.filter(pk=r.pk).values_list(*fields)[0]) for r in alone} == {
        tuple(Refund.objects.filter(pk=r.pk).values_list(*fields)[0]) for r in batched
    }
    assert stale_checks_mark(now=now, batch_size=2) == []
