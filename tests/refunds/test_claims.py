"""Returned checks and held funds: claimed to a new address once confirmed, or disposed of
(B3, N4-N5, B6)."""

import datetime as dt

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.addresses import address_validate
from portal.actors import SYSTEM
from portal.models import AuditEvent
from refunds.models import AddressChangeRequest, HeldFunds, Refund
from refunds.services.claims import (
    AddressChangeRefused,
    address_change_request_confirm,
    address_change_request_create,
    address_change_request_email_link,
)
from refunds.services.held_funds import (
    HeldFundsRefused,
    held_funds_claim,
    held_funds_from_refund,
    held_funds_record_disposition,
    held_funds_record_owner_notice,
)
from tests.helpers import link_in

pytestmark = pytest.mark.django_db

NEW_ADDRESS = {
    "line1": "455 W 2ND ST",
    "line2": "",
    "city": "ROSWELL",
    "state": "NM",
    "zip_code": "88201",
}


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


def claim(client, address=None):
    return client.post(reverse("refund_claim"), {"action": "use_typed", **(address or NEW_ADDRESS)})


def confirmation_emails():
    return [m for m in mail.outbox if "Confirm the new address" in m.subject]


def confirm_path(message):
    path = link_in(message)
    assert path.startswith("/refund-status/confirm/")
    return path


def test_a_new_address_sends_no_money_until_the_holder_confirms_the_emailed_link(
    client, returned_check, django_capture_on_commit_callbacks
):
    """Rule B3: the claim is recorded as awaiting confirmation, the holder is emailed at
    once at the email on record, and only the link's button makes the new check."""
    closure = returned_check.closure
    page = look_up(client, closure).content.decode()
    assert "Send my refund to a new address" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = claim(client)
    assert "No check goes out until you confirm" in response.content.decode()
    assert 'id="awaiting-confirmation"' in response.content.decode()

    change = AddressChangeRequest.objects.get(closure=closure)
    assert change.status == AddressChangeRequest.Status.AWAITING_CONFIRMATION
    assert change.address_lines() == ["455 W 2ND ST", "ROSWELL NM 88201"]
    returned_check.refresh_from_db()
    assert returned_check.status == Refund.Status.RETURNED
    assert not Refund.objects.filter(replaces=returned_check).exists()

    [email] = confirmation_emails()
    assert email.to == [closure.account.holder.email]
    assert "455 W 2ND ST" in email.body and "$61.50" in email.body
    assert "within 72 hours" in email.body
    assert "If it was not you" in email.body and "1-800-844-6591" in email.body
    path = confirm_path(email)
    # The raw token is never stored, only its hash.
    token = path.rstrip("/").rsplit("/", 1)[1]
    assert token not in change.token_hash

    # Opening the link (as a mail scanner would) changes nothing.
    shown = client.get(path).content.decode()
    assert "Yes, send my check to this address" in shown
    assert not Refund.objects.filter(replaces=returned_check).exists()

    confirmed = client.post(path).content.decode()
    new_check = Refund.objects.get(replaces=returned_check)
    assert (new_check.status, new_check.amount_cents) == ("pending", 6150)
    assert new_check.address_lines() == ["455 W 2ND ST", "ROSWELL NM 88201"]
    assert f"mailed to this address by {new_check.due_date.strftime('%B %-d, %Y')}" in confirmed
    change.refresh_from_db()
    assert (change.status, change.new_refund) == ("confirmed", new_check)
    returned_check.refresh_from_db()
    assert returned_check.status == Refund.Status.REISSUED
    # The request counts as activity (N2, N5).
    closure.account.refresh_from_db()
    assert closure.account.last_activity_kind == "refund_request"
    # One-time: a double click or a second tab makes no second check.
    again = client.post(path).content.decode()
    assert 'id="link-done"' in again
    assert Refund.objects.filter(closure=closure).count() == 2


def test_the_link_works_once_and_expires_at_72_hours(returned_check):
    """Rule B3, with the clock pinned: the link is good until 72 hours after it was
    emailed, not a second longer."""
    closure = returned_check.closure
    asked = dt.datetime(2031, 3, 3, 15, 0, tzinfo=dt.timezone.utc)
    late = address_change_request_create(closure=closure, address=NEW_ADDRESS, at=asked)
    address_change_request_email_link(change_id=late.pk, at=asked)
    token = confirm_path(confirmation_emails()[-1]).rstrip("/").rsplit("/", 1)[1]
    assert late.__class__.objects.get(pk=late.pk).expires_at == asked + dt.timedelta(hours=72)

    expired = address_change_request_confirm(token=token, at=asked + dt.timedelta(hours=72))
    assert expired.status == AddressChangeRequest.Status.EXPIRED
    assert not Refund.objects.filter(replaces=returned_check).exists()

    asked_again = asked + dt.timedelta(hours=73)
    change = address_change_request_create(closure=closure, address=NEW_ADDRESS, at=asked_again)
    address_change_request_email_link(change_id=change.pk, at=asked_again)
    token = confirm_path(confirmation_emails()[-1]).rstrip("/").rsplit("/", 1)[1]
    just_in_time = asked_again + dt.timedelta(hours=72) - dt.timedelta(seconds=1)
    change = address_change_request_confirm(token=token, at=just_in_time)
    assert change.status == AddressChangeRequest.Status.CONFIRMED
    assert change.new_refund.replaces == returned_check
    # The old, expired link still sends nothing.
    assert address_change_request_confirm(token=token, at=just_in_time).new_refund == (
        change.new_refund
    )
    assert Refund.objects.filter(closure=closure).count() == 2


def test_an_expired_link_shows_how_to_ask_again(client, returned_check):
    change = address_change_request_create(closure=returned_check.closure, address=NEW_ADDRESS)
    past = timezone.now() - dt.timedelta(hours=73)
    address_change_request_email_link(change_id=change.pk, at=past)
    path = confirm_path(confirmation_emails()[-1])
    page = client.post(path).content.decode()
    assert 'id="link-closed"' in page
    assert "No money was sent" in page
    change.refresh_from_db()
    assert change.status == AddressChangeRequest.Status.EXPIRED
    assert not Refund.objects.filter(replaces=returned_check).exists()


def test_a_link_we_never_sent_is_refused(client, returned_check):
    response = client.post(reverse("refund_confirm_address", args=["made-up-token"]))
    assert response.status_code == 404
    assert 'id="link-unknown"' in response.content.decode()
    assert not Refund.objects.filter(replaces=returned_check).exists()


def test_a_newer_request_replaces_the_older_one(
    client, returned_check, django_capture_on_commit_callbacks
):
    look_up(client, returned_check.closure)
    with django_capture_on_commit_callbacks(execute=True):
        claim(client)
    with django_capture_on_commit_callbacks(execute=True):
        claim(client, {**NEW_ADDRESS, "line1": "9 PECOS AVE"})
    first, second = (confirm_path(m) for m in confirmation_emails())
    older, newer = AddressChangeRequest.objects.order_by("created_at", "id")
    assert (older.status, older.decision_reason) == ("cancelled", "Replaced by a newer request")
    assert newer.status == AddressChangeRequest.Status.AWAITING_CONFIRMATION
    assert 'id="link-closed"' in client.post(first).content.decode()
    assert not Refund.objects.filter(replaces=returned_check).exists()
    client.post(second)
    assert Refund.objects.get(replaces=returned_check).address_line1 == "9 PECOS AVE"


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


def test_held_funds_go_through_the_same_confirmation(
    client, returned_check, django_capture_on_commit_callbacks
):
    """Rule N5 with B3: a payout of held funds to a new address waits for the link too."""
    held = held_funds_from_refund(
        refund=returned_check, actor=SYSTEM, reason="Returned twice; no new address"
    )
    assert (held.amount_cents, held.status) == (6150, HeldFunds.Status.HELD)
    returned_check.refresh_from_db()
    assert returned_check.status == Refund.Status.VOID
    look_up(client, returned_check.closure)
    with django_capture_on_commit_callbacks(execute=True):
        claim(client)
    change = AddressChangeRequest.objects.get()
    assert change.held_funds == held
    held.refresh_from_db()
    assert held.status == HeldFunds.Status.HELD
    assert held.claimed_by_refund is None

    client.post(confirm_path(confirmation_emails()[0]))
    held.refresh_from_db()
    assert held.status == HeldFunds.Status.CLAIMED
    assert held.claimed_by_refund.address_lines()[0] == "455 W 2ND ST"
    assert held.claimed_by_refund.amount_cents == 6150


def test_a_line_that_is_not_an_address_is_refused_and_nothing_is_written(
    client, returned_check, django_capture_on_commit_callbacks
):
    """Rules B3, D2: a nonsense first line gets a plain message; no request, no email."""
    look_up(client, returned_check.closure)
    emails_before = len(mail.outbox)
    for nonsense, message in [
        ("asdf", "Enter the street address with its number"),
        ("N/A", "Enter the street address with its number"),
        ("12345", "Enter the street address with its number"),
        ("!!!", "Use only letters, numbers, spaces and"),
    ]:
        with django_capture_on_commit_callbacks(execute=True):
            response = claim(client, {**NEW_ADDRESS, "line1": nonsense})
        assert response.status_code == 200
        assert message in response.content.decode()
    assert not AddressChangeRequest.objects.exists()
    assert len(mail.outbox) == emails_before
    assert not Refund.objects.filter(replaces=returned_check).exists()


def test_a_check_address_must_have_a_street_line_whoever_gives_it(returned_check):
    with pytest.raises(AddressChangeRefused, match="street address with its number"):
        address_change_request_create(
            closure=returned_check.closure, address={**NEW_ADDRESS, "line1": "xxxxx"}
        )
    for real in ("PO BOX 12", "RR 2 BOX 15", "GENERAL DELIVERY", "1200 E 6TH ST"):
        assert address_validate(**{**NEW_ADDRESS, "line1": real}).line1 == real


def test_held_funds_with_a_recorded_disposition(returned_check):
    held = held_funds_from_refund(refund=returned_check, actor=SYSTEM, reason="Undeliverable")
    with pytest.raises(HeldFundsRefused, match="owner notice"):
        held_funds_record_disposition(
            held_funds=held,
            actor=SYSTEM,
            remitted_on=dt.date(2027, 11, 1),
            state="TX",
            report_reference="TX-UP-2027-0042",
        )
    held_funds_record_owner_notice(held_funds=held, actor=SYSTEM, mailed_on=dt.date(2027, 8, 15))
    held = held_funds_record_disposition(
        held_funds=held,
        actor=SYSTEM,
        remitted_on=dt.date(2027, 11, 1),
        state="TX",
        report_reference="TX-UP-2027-0042",
    )
    assert held.status == HeldFunds.Status.REMITTED
    assert (held.remitted_on, held.report_reference) == (dt.date(2027, 11, 1), "TX-UP-2027-0042")
    assert AuditEvent.objects.filter(action="held_funds.remitted").count() == 1
    # After final disposition the holder can no longer claim it here.
    with pytest.raises(HeldFundsRefused, match="unclaimed property"):
        held_funds_claim(held_funds=held, actor=SYSTEM, address=NEW_ADDRESS)


def test_new_mexico_wants_the_owner_notice_60_to_120_days_before(returned_check):
    held = held_funds_from_refund(refund=returned_check, actor=SYSTEM, reason="Undeliverable")
    held_funds_record_owner_notice(held_funds=held, actor=SYSTEM, mailed_on=dt.date(2027, 10, 1))
    with pytest.raises(HeldFundsRefused, match="60 to 120 days"):
        held_funds_record_disposition(
            held_funds=held,
            actor=SYSTEM,
            remitted_on=dt.date(2027, 11, 1),
            state="NM",
            report_reference="NM-UP-1",
        )
    held.refresh_from_db()
    assert held.status == HeldFunds.Status.HELD


def test_held_funds_are_not_sent_to_an_address_a_check_cannot_carry(returned_check):
    held = held_funds_from_refund(refund=returned_check, actor=SYSTEM, reason="Undeliverable")
    with pytest.raises(HeldFundsRefused, match="Enter a U.S. state or territory"):
        held_funds_claim(held_funds=held, actor=SYSTEM, address={**NEW_ADDRESS, "state": "XX"})
    held.refresh_from_db()
    assert held.status == HeldFunds.Status.HELD
    assert not Refund.objects.filter(replaces=returned_check).exists()


def test_a_holder_with_no_email_on_record_waits_for_refund_operations(
    client, returned_check, django_capture_on_commit_callbacks
):
    """Rule B3: no email, no link: the request waits for approval after a call."""
    holder = returned_check.closure.account.holder
    holder.email = ""
    holder.save(update_fields=["email"])
    emails_before = len(mail.outbox)
    look_up(client, returned_check.closure)
    with django_capture_on_commit_callbacks(execute=True):
        response = claim(client)
    assert "No check goes out until you confirm" in response.content.decode()
    change = AddressChangeRequest.objects.get()
    assert (change.status, change.emailed_at) == ("awaiting", None)
    assert len(mail.outbox) == emails_before
    assert not Refund.objects.filter(replaces=returned_check).exists()


def test_a_confirmation_email_not_sent_yet_goes_out_with_the_retries(returned_check):
    """Rule E9 for B3: an email that did not go is sent by `retry_pending_work`, once."""
    change = address_change_request_create(closure=returned_check.closure, address=NEW_ADDRESS)
    assert confirmation_emails() == []  # the after-commit send never ran (no commit here)
    call_command("retry_pending_work")
    call_command("retry_pending_work")
    assert len(confirmation_emails()) == 1
    change.refresh_from_db()
    assert change.emailed_at is not None
