"""Returned checks and held funds: claimed to a new address, or disposed of (B3, N4-N5, B6)."""

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse

from portal.models import AuditEvent
from refunds.models import HeldFunds, Refund
from refunds.services import closure_confirm
from refunds.services.held_funds import (
    HeldFundsRefused,
    held_funds_claim,
    held_funds_from_refund,
    held_funds_record_disposition,
    held_funds_record_owner_notice,
)
from refunds.services.transitions import (
    refund_mark_issued,
    refund_mark_mailed,
    refund_mark_returned,
)
from tests.factories import AdvanceConnectFactory, LedgerEntryFactory

pytestmark = pytest.mark.django_db

NEW_ADDRESS = {
    "line1": "455 W 2ND ST",
    "line2": "",
    "city": "ROSWELL",
    "state": "NM",
    "zip_code": "88201",
}


@pytest.fixture
def returned_check(django_capture_on_commit_callbacks):
    ac = AdvanceConnectFactory(account__holder__last_name="Okafor")
    LedgerEntryFactory(advance_connect=ac, by_mail=True, amount_cents=6150)
    with django_capture_on_commit_callbacks(execute=True):
        check = closure_confirm(account=ac.account, actor=None).refunds.get()
        check = refund_mark_issued(refund=check, actor=None, check_number="500123")
        check = refund_mark_mailed(refund=check, actor=None)
        check = refund_mark_returned(refund=check, actor=None, reason="Moved, left no address")
    return check


def look_up(client, closure):
    return client.post(
        reverse("refund_status"),
        {"reference": closure.reference, "zip_code": "78702", "last_name": "Okafor"},
    )


def test_the_holder_is_emailed_when_the_check_is_mailed_and_when_it_comes_back(returned_check):
    subjects = [m.subject for m in mail.outbox]
    assert any("Your refund check for $61.50 is in the mail" in s for s in subjects)
    returned = [m for m in mail.outbox if "came back" in m.subject]
    assert len(returned) == 1
    assert returned_check.closure.reference in returned[0].body


def test_a_returned_check_is_claimed_through_the_public_page_to_a_new_address(
    client, returned_check
):
    closure = returned_check.closure
    page = look_up(client, closure).content.decode()
    assert "Send my refund to a new address" in page
    response = client.post(reverse("refund_claim"), {"action": "use_typed", **NEW_ADDRESS})
    assert response.status_code == 200
    assert "A new check will be mailed to 455 W 2ND ST, ROSWELL NM 88201" in (
        response.content.decode()
    )

    returned_check.refresh_from_db()
    assert returned_check.status == Refund.Status.REISSUED
    new_check = Refund.objects.get(replaces=returned_check)
    assert (new_check.status, new_check.amount_cents) == ("pending", 6150)
    assert new_check.address_lines() == ["455 W 2ND ST", "ROSWELL NM 88201"]
    # The request counts as activity (N2, N5).
    closure.account.refresh_from_db()
    assert closure.account.last_activity_kind == "refund_request"
    # Nothing left to claim; a replayed claim makes no second check.
    client.post(reverse("refund_claim"), {"action": "use_typed", **NEW_ADDRESS})
    assert Refund.objects.filter(closure=closure).count() == 2


def test_the_claim_needs_a_lookup_first(client, returned_check):
    response = client.post(reverse("refund_claim"), {"action": "use_typed", **NEW_ADDRESS})
    assert response.url == reverse("refund_status")
    assert not Refund.objects.filter(replaces=returned_check).exists()


def test_a_bad_address_on_the_claim_changes_nothing(client, returned_check):
    look_up(client, returned_check.closure)
    bad = {**NEW_ADDRESS, "zip_code": "882", "state": "ZZ"}
    response = client.post(reverse("refund_claim"), {"action": "use_typed", **bad})
    assert "Enter a zip code in the format XXXXX or XXXXX-XXXX." in response.content.decode()
    assert not Refund.objects.filter(replaces=returned_check).exists()


def test_held_funds_are_claimed_through_the_public_page(client, returned_check):
    held = held_funds_from_refund(
        refund=returned_check, actor=None, reason="Returned twice; no new address"
    )
    assert (held.amount_cents, held.status) == (6150, HeldFunds.Status.HELD)
    returned_check.refresh_from_db()
    assert returned_check.status == Refund.Status.VOID
    look_up(client, returned_check.closure)
    client.post(reverse("refund_claim"), {"action": "use_typed", **NEW_ADDRESS})
    held.refresh_from_db()
    assert held.status == HeldFunds.Status.CLAIMED
    assert held.claimed_by_refund.address_lines()[0] == "455 W 2ND ST"
    assert held.claimed_by_refund.amount_cents == 6150


def test_held_funds_with_a_recorded_disposition(returned_check):
    held = held_funds_from_refund(refund=returned_check, actor=None, reason="Undeliverable")
    with pytest.raises(HeldFundsRefused, match="owner notice"):
        held_funds_record_disposition(
            held_funds=held,
            actor=None,
            remitted_on=dt.date(2027, 11, 1),
            state="TX",
            report_reference="TX-UP-2027-0042",
        )
    held_funds_record_owner_notice(held_funds=held, actor=None, mailed_on=dt.date(2027, 8, 15))
    held = held_funds_record_disposition(
        held_funds=held,
        actor=None,
        remitted_on=dt.date(2027, 11, 1),
        state="TX",
        report_reference="TX-UP-2027-0042",
    )
    assert held.status == HeldFunds.Status.REMITTED
    assert (held.remitted_on, held.report_reference) == (dt.date(2027, 11, 1), "TX-UP-2027-0042")
    assert AuditEvent.objects.filter(action="held_funds.remitted").count() == 1
    # After final disposition the holder can no longer claim it here.
    with pytest.raises(HeldFundsRefused, match="unclaimed property"):
        held_funds_claim(held_funds=held, actor=None, address=NEW_ADDRESS)


def test_new_mexico_wants_the_owner_notice_60_to_120_days_before(returned_check):
    held = held_funds_from_refund(refund=returned_check, actor=None, reason="Undeliverable")
    held_funds_record_owner_notice(held_funds=held, actor=None, mailed_on=dt.date(2027, 10, 1))
    with pytest.raises(HeldFundsRefused, match="60 to 120 days"):
        held_funds_record_disposition(
            held_funds=held,
            actor=None,
            remitted_on=dt.date(2027, 11, 1),
            state="NM",
            report_reference="NM-UP-1",
        )
    held.refresh_from_db()
    assert held.status == HeldFunds.Status.HELD


def test_held_funds_are_not_sent_to_an_address_a_check_cannot_carry(returned_check):
    held = held_funds_from_refund(refund=returned_check, actor=None, reason="Undeliverable")
    with pytest.raises(HeldFundsRefused, match="not a US state"):
        held_funds_claim(held_funds=held, actor=None, address={**NEW_ADDRESS, "state": "XX"})
    held.refresh_from_db()
    assert held.status == HeldFunds.Status.HELD
    assert not Refund.objects.filter(replaces=returned_check).exists()
