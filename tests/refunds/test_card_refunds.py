"""Card refunds to the processor: once, retried, replaced by a check (E4, SPEC §3, N4)."""

import datetime as dt

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from portal.actors import SYSTEM
from refunds.gateway import FakeCardGateway
from refunds.models import HeldFunds, Refund
from refunds.services import card_refunds as card_refund_service
from refunds.services import closure_confirm
from refunds.services.card_refunds import card_refund_submit
from tests.factories import AdvanceConnectFactory, LedgerEntryFactory

pytestmark = pytest.mark.django_db


def card_closure(token="tok_visa_ok", capture=None, address=True):
    ac = AdvanceConnectFactory(**({} if address else {"account__address": False}))
    LedgerEntryFactory(advance_connect=ac, amount_cents=4250, processor_token=token)
    if capture is None:
        return closure_confirm(account=ac.account, actor=SYSTEM)
    with capture(execute=True):
        return closure_confirm(account=ac.account, actor=SYSTEM)


def test_a_card_refund_is_submitted_after_the_closure_commits(
    django_capture_on_commit_callbacks,
):
    closure = card_closure(capture=django_capture_on_commit_callbacks)
    refund = closure.refunds.get()
    assert refund.status == Refund.Status.SUBMITTED
    assert refund.processor_reference.startswith("fake_re_")
    assert FakeCardGateway.calls == [(f"refund-{refund.pk}", "tok_visa_ok", 4250)]
    subjects = [m.subject for m in mail.outbox]
    assert any("card refund of $42.50 has been sent" in s for s in subjects)


def test_submitting_again_does_nothing_more():
    refund = card_closure().refunds.get()
    card_refund_submit(refund_id=refund.pk)
    card_refund_submit(refund_id=refund.pk)
    assert FakeCardGateway.refunds_made() == 1
    assert len(FakeCardGateway.calls) == 1


def test_a_declined_card_becomes_failed_and_a_check_replaces_it(
    django_capture_on_commit_callbacks,
):
    closure = card_closure(token="tok_card_closed", capture=django_capture_on_commit_callbacks)
    failed = closure.refunds.get(method=Refund.Method.CARD)
    assert failed.status == Refund.Status.FAILED
    assert failed.status_reason == "Card closed"
    check = Refund.objects.get(replaces=failed)
    assert (check.method, check.status, check.amount_cents) == ("check", "pending", 4250)
    assert check.address_lines() == ["1200 E 6TH ST", "AUSTIN TX 78702"]
    assert FakeCardGateway.refunds_made() == 0


def test_a_declined_card_with_no_address_on_record_becomes_held_funds():
    closure = card_closure(token="tok_expired", address=False)
    failed = closure.refunds.get(method=Refund.Method.CARD)
    card_refund_submit(refund_id=failed.pk)
    check = Refund.objects.get(replaces=failed)
    held = HeldFunds.objects.get(refund=check)
    assert check.status == Refund.Status.VOID
    assert held.amount_cents == 4250
    assert held.status == HeldFunds.Status.HELD
    assert "No deliverable address" in held.reason


def test_temporary_errors_are_retried_with_backoff_then_flagged(monkeypatch):
    refund = card_closure(token="tok_unavailable").refunds.get()
    now = timezone.now()
    refund = card_refund_submit(refund_id=refund.pk, now=now)
    assert (refund.status, refund.submit_attempts) == ("pending", 1)
    assert refund.next_attempt_at == now + dt.timedelta(minutes=5)
    # Not due yet: nothing is sent.
    card_refund_submit(refund_id=refund.pk, now=now + dt.timedelta(minutes=4))
    assert len(FakeCardGateway.calls) == 1
    refund = card_refund_submit(refund_id=refund.pk, now=now + dt.timedelta(minutes=5))
    assert refund.next_attempt_at == now + dt.timedelta(minutes=20)
    at = refund.next_attempt_at
    while refund.next_attempt_at is not None:
        at = refund.next_attempt_at
        refund = card_refund_submit(refund_id=refund.pk, now=at)
    assert refund.submit_attempts == settings.CARD_REFUND_MAX_ATTEMPTS
    assert refund.needs_review is True
    assert refund.status == Refund.Status.PENDING
    assert "unavailable" in refund.last_error


class WorkerDied(BaseException):
    """Stands in for a worker killed between the processor's answer and the commit."""


def test_a_worker_that_dies_midway_is_recovered_and_refunds_once(monkeypatch):
    refund = card_closure().refunds.get()

    def die(**kwargs):
        raise WorkerDied

    monkeypatch.setattr(card_refund_service, "card_refund_mark_submitted", die)
    with pytest.raises(WorkerDied):
        card_refund_submit(refund_id=refund.pk)
    refund.refresh_from_db()
    assert refund.status == Refund.Status.PENDING  # the transaction rolled back
    assert FakeCardGateway.refunds_made() == 1  # but the processor did refund

    monkeypatch.undo()
    call_command("retry_pending_work", stdout=open("/dev/null", "w"))  # noqa: SIM115
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUBMITTED
    assert FakeCardGateway.refunds_made() == 1
    assert [key for key, *_ in FakeCardGateway.calls] == [f"refund-{refund.pk}"] * 2
