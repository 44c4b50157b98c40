"""Card refunds on PostgreSQL: the processor is called with no row locked and no
transaction open, and two workers at once refund the card once (E4, SPEC §3)."""

import threading

import pytest
from django.db import connection, connections, transaction

from portal.actors import SYSTEM
from refunds.gateway import FakeCardGateway
from refunds.models import Closure, Refund
from refunds.services import closure_confirm
from refunds.services.card_refunds import card_refund_submit
from tests.factories import AdvanceConnectFactory, LedgerEntryFactory
from tests.helpers import postgres_only, run_at_once

pytestmark = [*postgres_only, pytest.mark.django_db(transaction=True)]


class SlowGateway(FakeCardGateway):
    """A processor that takes its time: it answers when `release` is set (or after
    10 seconds), and says when a call has started and when it has answered."""

    started = threading.Event()
    release = threading.Event()
    answered = threading.Event()

    def refund(self, **kwargs):
        SlowGateway.started.set()
        SlowGateway.release.wait(timeout=10)
        try:
            return super().refund(**kwargs)
        finally:
            SlowGateway.answered.set()


@pytest.fixture
def slow_gateway(settings):
    settings.CARD_GATEWAY = "tests.refunds.test_card_refunds_concurrency.SlowGateway"
    # The closures' own submissions wait in the queue: each test submits by hand.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    for event in (SlowGateway.started, SlowGateway.release, SlowGateway.answered):
        event.clear()
    yield SlowGateway
    SlowGateway.release.set()


def account_with_card_balance():
    ac = AdvanceConnectFactory()
    LedgerEntryFactory(advance_connect=ac, amount_cents=4250, processor_token="tok_visa_ok")
    return ac.account


def test_a_slow_processor_does_not_block_the_closure_of_another_account(slow_gateway):
    refund = closure_confirm(account=account_with_card_balance(), actor=SYSTEM).refunds.get()
    other = account_with_card_balance()

    def submit():
        try:
            card_refund_submit(refund_id=refund.pk)
        finally:
            connections.close_all()

    worker = threading.Thread(target=submit)
    worker.start()
    assert slow_gateway.started.wait(timeout=10)

    try:
        # While the processor is still thinking: the refund's row is free, no connection
        # sits idle in a transaction, and another holder's closure goes through.
        with transaction.atomic():
            Refund.objects.select_for_update(nowait=True).get(pk=refund.pk)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND state LIKE 'idle in transaction%%'"
            )
            assert cursor.fetchone()[0] == 0
        closure = closure_confirm(account=other, actor=SYSTEM)
        assert not slow_gateway.answered.is_set()
    finally:
        slow_gateway.release.set()
        worker.join(timeout=30)
    assert Closure.objects.get(pk=closure.pk).refund_cents == 4250
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUBMITTED
    assert FakeCardGateway.refunds_made() == 1


def test_two_workers_submitting_the_same_refund_at_once_call_the_processor_once(
    slow_gateway,
):
    refund = closure_confirm(account=account_with_card_balance(), actor=SYSTEM).refunds.get()

    def submit(i):
        status = card_refund_submit(refund_id=refund.pk).status
        answered = slow_gateway.answered.is_set()
        slow_gateway.release.set()  # the first to return lets the processor answer
        return status, answered

    results, errors = run_at_once(2, submit)

    assert errors == []
    # One backed off while the other's call was in progress, then that call answered.
    assert sorted(results) == [("pending", False), ("submitted", True)]
    assert len(FakeCardGateway.calls) == 1
    assert FakeCardGateway.refunds_made() == 1
    refund.refresh_from_db()
    assert (refund.status, refund.submit_attempts) == ("submitted", 1)
