"""Card refunds to the processor: once, retried, replaced by a check (E4, SPEC §3, N4)."""

import datetime as dt

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from portal.actors import SYSTEM
from portal.models import AuditEvent
from refunds.gateway import FakeCardGateway
from refunds.models import HeldFunds, Refund
from refunds.services import card_refunds as card_refund_service
from refunds.services import closure_confirm
from refunds.services.card_refunds import card_refund_submit, submit_lease
from refunds.services.transitions import card_refund_fail, refund_mark_issued
from tests.factories import AdvanceConnectFactory, LedgerEntryFactory, UserFactory

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


class HookedGateway(FakeCardGateway):
    """The fake processor, noting whether a transaction was open at each call and
    running `hook` (another worker, a clerk) while the call is in progress."""

    hook = None
    in_transaction: list = []

    def refund(self, **kwargs):
        HookedGateway.in_transaction.append(connection.in_atomic_block)
        if HookedGateway.hook is not None:
            HookedGateway.hook()
        return super().refund(**kwargs)


@pytest.fixture
def hooked(settings):
    settings.CARD_GATEWAY = "tests.refunds.test_card_refunds.HookedGateway"
    HookedGateway.in_transaction = []
    yield HookedGateway
    HookedGateway.hook = None


def card_refund_not_yet_sent(settings):
    """A card refund whose submission task is still waiting in the queue."""
    immediate = settings.TASKS
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    refund = card_closure().refunds.get()
    settings.TASKS = immediate
    return refund


class WorkerDied(BaseException):
    """Stands in for a worker killed between the processor's answer and the commit."""


@pytest.mark.django_db(transaction=True)
def test_a_worker_that_dies_midway_is_recovered_and_refunds_once(monkeypatch, hooked, settings):
    refund = card_refund_not_yet_sent(settings)
    died_at = timezone.now() - submit_lease() - dt.timedelta(minutes=1)

    def die(**kwargs):
        raise WorkerDied

    monkeypatch.setattr(card_refund_service, "card_refund_mark_submitted", die)
    with pytest.raises(WorkerDied):
        card_refund_submit(refund_id=refund.pk, now=died_at)
    refund.refresh_from_db()
    assert refund.status == Refund.Status.PENDING  # the answer's transaction rolled back
    assert FakeCardGateway.refunds_made() == 1  # but the processor did refund
    assert refund.submit_claimed_at == died_at
    monkeypatch.undo()

    # While the dead attempt's lease runs, no other attempt starts.
    card_refund_submit(refund_id=refund.pk, now=died_at + dt.timedelta(minutes=1))
    assert len(FakeCardGateway.calls) == 1

    # The lease ran out: the safety net replays the same key and records the answer.
    call_command("retry_pending_work", stdout=open("/dev/null", "w"))  # noqa: SIM115
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUBMITTED
    assert refund.processor_reference == "fake_re_000001"
    assert (refund.submit_claimed_at, refund.next_attempt_at) == (None, None)
    assert FakeCardGateway.refunds_made() == 1
    assert [key for key, *_ in FakeCardGateway.calls] == [f"refund-{refund.pk}"] * 2
    # Both calls were made outside any transaction: no row lock held while waiting.
    assert hooked.in_transaction == [False, False]


@pytest.mark.django_db(transaction=True)
def test_a_second_worker_backs_off_while_an_attempt_is_in_progress(hooked, settings):
    refund = card_refund_not_yet_sent(settings)
    second = []
    hooked.hook = lambda: second.append(card_refund_submit(refund_id=refund.pk))

    first = card_refund_submit(refund_id=refund.pk)

    assert (second[0].status, second[0].processor_reference) == ("pending", "")
    assert (first.status, first.submit_attempts) == ("submitted", 1)
    assert len(FakeCardGateway.calls) == 1
    assert FakeCardGateway.refunds_made() == 1


def test_a_temporary_error_schedules_the_next_attempt_with_run_after(
    settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.backend.DatabaseBackend"}}  # prod
    refund = card_closure(token="tok_unavailable").refunds.get()
    with django_capture_on_commit_callbacks(execute=True):
        refund = card_refund_submit(refund_id=refund.pk)

    submissions = DBTaskResult.objects.filter(task_path="refunds.tasks.card_refund_submit_task")
    task = submissions.get()
    assert task.args_kwargs["kwargs"] == {"refund_id": refund.pk}
    assert task.run_after == refund.next_attempt_at
    assert refund.next_attempt_at > timezone.now() + dt.timedelta(minutes=4)
    assert not submissions.ready().exists()  # a worker leaves it until then

    # The scheduled task is lost; once the attempt is due, the safety net enqueues it.
    submissions.delete()
    call_command("retry_pending_work", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert not submissions.exists()
    refund.next_attempt_at = timezone.now()
    refund.save(update_fields=["next_attempt_at"])
    call_command("retry_pending_work", stdout=open("/dev/null", "w"))  # noqa: SIM115
    task = submissions.ready().get()
    assert task.args_kwargs["kwargs"] == {"refund_id": refund.pk}


def test_without_a_backend_that_defers_the_retry_waits_for_retry_pending_work(
    django_capture_on_commit_callbacks,
):
    refund = card_closure(token="tok_unavailable").refunds.get()
    with django_capture_on_commit_callbacks(execute=True):
        card_refund_submit(refund_id=refund.pk, now=timezone.now() - dt.timedelta(minutes=6))
    assert len(FakeCardGateway.calls) == 1  # the immediate backend did not retry at once

    call_command("retry_pending_work", stdout=open("/dev/null", "w"))  # noqa: SIM115
    refund.refresh_from_db()
    assert len(FakeCardGateway.calls) == 2
    assert refund.submit_attempts == 2


def test_the_card_is_refunded_after_staff_marked_it_failed_so_the_unprinted_check_is_void(
    hooked,
):
    staff_user = UserFactory(staff=True)
    refund = card_closure().refunds.get()
    FakeCardGateway.reset()
    hooked.hook = lambda: card_refund_fail(
        refund=refund, actor=staff_user, reason="The holder says the card is closed"
    )

    refund = card_refund_submit(refund_id=refund.pk)

    check = Refund.objects.get(replaces=refund)
    assert FakeCardGateway.refunds_made() == 1
    assert (refund.status, refund.needs_review) == ("failed", True)
    assert "refunded the card (reference fake_re_000001)" in refund.last_error
    assert check.status == Refund.Status.VOID
    assert "this check is not needed" in check.status_reason
    assert not HeldFunds.objects.exists()
    assert refund.processor_reference == "fake_re_000001"
    flagged = AuditEvent.objects.filter(action="refund.flagged", object_id=str(refund.pk))
    assert flagged.count() == 1

    # The same answer again (from a slower worker's replay) changes nothing more.
    card_refund_service._answer_accepted(
        refund_id=refund.pk, reference="fake_re_000001", at=timezone.now()
    )
    assert flagged.count() == 1
    assert Refund.objects.get(pk=check.pk).status == Refund.Status.VOID


def test_the_card_is_refunded_after_the_replacing_check_was_printed_so_both_are_flagged(
    hooked,
):
    staff_user = UserFactory(staff=True)
    refund = card_closure().refunds.get()
    FakeCardGateway.reset()

    def clerk():
        check = card_refund_fail(refund=refund, actor=staff_user, reason="Card closed")
        refund_mark_issued(refund=check, actor=staff_user, check_number="100234")

    hooked.hook = clerk

    refund = card_refund_submit(refund_id=refund.pk)

    check = Refund.objects.get(replaces=refund)
    assert (refund.status, refund.needs_review) == ("failed", True)
    assert (check.status, check.needs_review) == ("issued", True)
    assert "not paid twice" in check.last_error
