"""SPEC §3: every allowed move works, every other one is refused and changes nothing;
amounts never change; a double click acts once; each change leaves one audit row."""

import contextlib
import datetime as dt

import pytest
from django.forms.models import model_to_dict
from django.utils import timezone

from portal.audit import audit_event_open
from portal.business_calendar import business_date
from portal.models import AuditEvent
from refunds.models import Refund
from refunds.services import transitions as t
from refunds.states import TRANSITIONS, can_move
from tests.factories import MailingAddressFactory
from tests.factories.refunds import RefundFactory, refund_in

pytestmark = pytest.mark.django_db

S = Refund.Status
TODAY = business_date(timezone.now())
NEW_ADDRESS = {
    "line1": "455 Peachtree St NE",
    "line2": "Apt 4b",
    "city": "Atlanta",
    "state": "GA",
    "zip_code": "30308",
}

# One call per target status, with the details staff would give.
MOVE_TO = {
    S.SUBMITTED: lambda r, a: t.card_refund_mark_submitted(
        refund=r, actor=a, processor_reference="re_777"
    ),
    S.SETTLED: lambda r, a: t.card_refund_mark_settled(refund=r, actor=a),
    S.FAILED: lambda r, a: t.card_refund_fail(refund=r, actor=a, reason="Card expired"),
    S.ISSUED: lambda r, a: t.refund_mark_issued(
        refund=r, actor=a, check_number="777001", issued_on=TODAY
    ),
    S.MAILED: lambda r, a: t.refund_mark_mailed(refund=r, actor=a, mailed_on=TODAY),
    S.CASHED: lambda r, a: t.refund_mark_cashed(refund=r, actor=a, cleared_on=TODAY),
    S.RETURNED: lambda r, a: t.refund_mark_returned(refund=r, actor=a, reason="No such street"),
    S.REISSUED: lambda r, a: t.refund_reissue(refund=r, actor=a, **NEW_ADDRESS),
    S.VOID: lambda r, a: t.refund_void(refund=r, actor=a, reason="Holder asked"),
    S.STALE: lambda r, a: t.refund_mark_stale(refund=r, actor=a),
    S.ESCHEATED: lambda r, a: t.refund_mark_escheated(refund=r, actor=a, report_reference="R-9"),
}

ALL_PAIRS = [
    pytest.param(method, status, target, id=f"{method}:{status}->{target}")
    for method, table in TRANSITIONS.items()
    for status in table
    for target in MOVE_TO
]


@pytest.fixture
def clerk(staff):
    return staff("Refund operations")


def snapshot(refund):
    refund.refresh_from_db()
    return model_to_dict(refund)


def audit_rows():
    return AuditEvent.objects.count()


@pytest.mark.parametrize("method, status, target", ALL_PAIRS)
def test_every_pair_of_statuses(clerk, method, status, target):
    # Only a check uncashed for 180 days may go stale: issue this one long ago.
    long_ago = {"issued_on": TODAY - dt.timedelta(days=200)} if target == S.STALE else {}
    refund = refund_in(method, status, **(long_ago if status in (S.ISSUED, S.MAILED) else {}))
    before = snapshot(refund)
    events, refunds = audit_rows(), Refund.objects.count()

    if can_move(method, status, target):
        MOVE_TO[target](refund, clerk)
        after = snapshot(refund)
        assert after["status"] == target
        assert after["amount_cents"] == before["amount_cents"]
        event = AuditEvent.objects.get(action=f"refund.{target}", object_id=str(refund.pk))
        assert event.before["status"] == status
        assert event.actor == clerk
        replaced = target in (S.REISSUED, S.FAILED)
        assert Refund.objects.count() == refunds + replaced
        assert audit_rows() == events + 1 + replaced
    else:
        if status != target:
            with pytest.raises(t.TransitionRefused):
                MOVE_TO[target](refund, clerk)
        else:  # already there: the same move again returns it, other details are refused
            with contextlib.suppress(t.TransitionRefused):
                MOVE_TO[target](refund, clerk)
        assert snapshot(refund) == before
        assert audit_rows() == events
        assert Refund.objects.count() == refunds


def test_a_refused_move_says_why_in_plain_words(clerk):
    refund = RefundFactory()
    with pytest.raises(t.TransitionRefused) as refused:
        t.refund_mark_cashed(refund=refund, actor=clerk)
    assert str(refused.value) == (
        f"The refund check ({refund.closure.reference}, $42.50) is pending, so it cannot be "
        "marked cashed. From pending it can go to: issued, void."
    )


def test_a_double_clicked_move_acts_once(clerk):
    refund = RefundFactory(issued=True)
    first = t.refund_mark_mailed(refund=refund, actor=clerk, mailed_on=TODAY)
    second = t.refund_mark_mailed(refund=refund, actor=clerk, mailed_on=TODAY)
    assert first.pk == second.pk and second.status == S.MAILED
    assert AuditEvent.objects.filter(action="refund.mailed").count() == 1


def test_the_same_move_with_other_details_is_refused(clerk):
    refund = RefundFactory()
    t.refund_mark_issued(refund=refund, actor=clerk, check_number="1001", issued_on=TODAY)
    with pytest.raises(t.TransitionRefused, match="already issued, with other details"):
        t.refund_mark_issued(refund=refund, actor=clerk, check_number="1002", issued_on=TODAY)
    refund.refresh_from_db()
    assert refund.check_number == "1001"


def test_a_check_number_is_used_once(clerk):
    first, second = RefundFactory(), RefundFactory()
    t.refund_mark_issued(refund=first, actor=clerk, check_number="1001", issued_on=TODAY)
    with pytest.raises(t.TransitionRefused, match="Check number 1001 is already used"):
        t.refund_mark_issued(refund=second, actor=clerk, check_number=" 1001 ", issued_on=TODAY)
    second.refresh_from_db()
    assert second.status == S.PENDING and second.check_number is None


def test_a_returned_check_is_reissued_as_a_new_check_for_the_same_amount(clerk):
    old = RefundFactory(returned=True, amount_cents=6120)
    new = t.refund_reissue(refund=old, actor=clerk, **NEW_ADDRESS)
    old.refresh_from_db()
    assert old.status == S.REISSUED
    assert new.pk != old.pk and new.replaces == old
    assert (new.method, new.status, new.amount_cents) == (Refund.Method.CHECK, S.PENDING, 6120)
    assert new.address_lines() == ["455 PEACHTREE ST NE", "APT 4B", "ATLANTA GA 30308"]
    assert new.due_date == TODAY + dt.timedelta(days=21)
    assert new.check_number is None
    # asked again (a resubmitted form): the same new check, nothing more
    assert t.refund_reissue(refund=old, actor=clerk, **NEW_ADDRESS) == new
    assert Refund.objects.filter(closure=old.closure).count() == 2
    actions = AuditEvent.objects.filter(action__in=["refund.reissued", "refund.created"])
    assert sorted(actions.values_list("action", flat=True)) == ["refund.created", "refund.reissued"]


def test_a_reissue_needs_a_real_us_address(clerk):
    old = RefundFactory(returned=True)
    with pytest.raises(t.TransitionRefused, match="zip code in the format XXXXX"):
        t.refund_reissue(refund=old, actor=clerk, **{**NEW_ADDRESS, "zip_code": "3030"})
    with pytest.raises(t.TransitionRefused, match="Enter a U.S. state or territory"):
        t.refund_reissue(refund=old, actor=clerk, **{**NEW_ADDRESS, "state": "ZZ"})
    old.refresh_from_db()
    assert old.status == S.RETURNED


def test_a_failed_card_refund_is_replaced_by_a_check_to_the_address_on_record(clerk):
    card = RefundFactory(submitted=True, amount_cents=3999)
    account = card.closure.account
    MailingAddressFactory(account=account, replaced=True, line1="OLD ADDRESS 1")
    check = t.card_refund_fail(refund=card, actor=clerk, reason="Card closed")
    card.refresh_from_db()
    assert card.status == S.FAILED and card.status_reason == "Card closed"
    assert check.replaces == card and check.method == Refund.Method.CHECK
    assert check.amount_cents == 3999 and not check.needs_review
    assert check.address_lines() == ["1200 E 6TH ST", "AUSTIN TX 78702"]
    # a double click: the same replacement, no second one
    assert t.card_refund_fail(refund=card, actor=clerk, reason="Card closed") == check


def test_without_an_address_on_record_the_replacement_check_needs_review(clerk):
    card = RefundFactory(card=True, closure__account__address=False)
    check = t.card_refund_fail(refund=card, actor=clerk, reason="Card closed")
    assert check.needs_review and check.address_lines() == []


def test_a_check_goes_stale_only_180_days_after_issue(clerk):
    recent = RefundFactory(mailed=True)
    with pytest.raises(t.TransitionRefused, match="can be marked stale from"):
        t.refund_mark_stale(refund=recent, actor=clerk)
    old = RefundFactory(mailed=True, issued_on=TODAY - dt.timedelta(days=180))
    assert t.refund_mark_stale(refund=old, actor=clerk).status == S.STALE


def test_a_check_cannot_be_mailed_before_it_was_issued(clerk):
    refund = RefundFactory(issued=True)
    with pytest.raises(t.TransitionRefused, match="cannot have been mailed"):
        t.refund_mark_mailed(
            refund=refund, actor=clerk, mailed_on=refund.issued_on - dt.timedelta(1)
        )


def test_a_move_records_who_when_and_why(clerk):
    refund = RefundFactory(mailed=True)
    at = timezone.now() - dt.timedelta(minutes=5)
    t.refund_mark_returned(refund=refund, actor=clerk, reason="Addressee unknown", at=at)
    refund.refresh_from_db()
    assert (refund.status_changed_at, refund.status_reason) == (at, "Addressee unknown")
    event = AuditEvent.objects.get(action="refund.returned")
    opened = audit_event_open(event)
    assert (event.actor, event.occurred_at, opened["reason"]) == (clerk, at, "Addressee unknown")
    assert (event.before, event.after) == ({"status": "mailed"}, {"status": "returned"})
