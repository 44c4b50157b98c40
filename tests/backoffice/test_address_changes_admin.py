"""New addresses given without signing in, in the back office (rules B3, S5.roles): Support
sees them waiting on the holder's page; only Refund operations approve one after a call,
and who, when and why go to the audit trail."""

import pytest
from django.urls import reverse

from portal.audit import audit_event_open
from portal.models import AuditEvent
from refunds.models import AddressChangeRequest, Refund
from refunds.roles import AUDITOR, REFUND_OPERATIONS, SUPPORT
from tests.factories.refunds import AddressChangeRequestFactory

pytestmark = pytest.mark.django_db


def approve_url(change):
    return reverse(
        "admin:refunds_addresschangerequest_actions", kwargs={"pk": change.pk, "tool": "approve"}
    )


def test_refund_operations_approve_after_a_call_and_the_check_is_made(signed_in):
    client = signed_in(REFUND_OPERATIONS, email="clerk@portal.test")
    change = AddressChangeRequestFactory()
    page = client.get(reverse("admin:refunds_addresschangerequest_change", args=[change.pk]))
    assert b"Approve after a call" in page.content

    without_reason = client.post(approve_url(change), {"apply": "1", "reason": ""})
    assert b"This field is required." in without_reason.content
    assert not Refund.objects.filter(replaces=change.refund).exists()

    response = client.post(
        approve_url(change), {"apply": "1", "reason": "Holder called from the number on file"}
    )
    assert response.status_code == 302
    change.refresh_from_db()
    new_check = Refund.objects.get(replaces=change.refund)
    assert (change.status, change.new_refund) == (AddressChangeRequest.Status.APPROVED, new_check)
    assert new_check.address_lines() == ["455 W 2ND ST", "ROSWELL NM 88201"]
    assert new_check.amount_cents == change.refund.amount_cents
    assert change.decided_by.email == "clerk@portal.test"
    event = AuditEvent.objects.get(action="address_change.approved")
    assert (event.actor_label, audit_event_open(event)["reason"]) == (
        "clerk@portal.test",
        "Holder called from the number on file",
    )
    assert event.occurred_at == change.decided_at
    # Approving again makes no second check, and the button is gone.
    client.post(approve_url(change), {"apply": "1", "reason": "again"})
    assert Refund.objects.filter(replaces=change.refund).count() == 1


@pytest.mark.parametrize("role", [SUPPORT, AUDITOR])
def test_support_and_auditors_cannot_approve(signed_in, role):
    client = signed_in(role)
    change = AddressChangeRequestFactory()
    page = client.get(reverse("admin:refunds_addresschangerequest_change", args=[change.pk]))
    assert page.status_code == 200
    assert b"Approve after a call" not in page.content
    response = client.post(approve_url(change), {"apply": "1", "reason": "I say so"})
    assert response.status_code == 403
    change.refresh_from_db()
    assert change.status == AddressChangeRequest.Status.AWAITING_CONFIRMATION
    assert not Refund.objects.filter(replaces=change.refund).exists()
    assert not AuditEvent.objects.filter(action="address_change.approved").exists()


def test_support_sees_the_waiting_request_on_the_holders_page(signed_in):
    client = signed_in(SUPPORT)
    change = AddressChangeRequestFactory()
    account = change.closure.account
    page = client.get(reverse("admin:accounts_customeraccount_change", args=[account.pk]))
    html = page.content.decode()
    assert "New addresses given without signing in (rule B3)" in html
    assert "455 W 2ND ST, ROSWELL NM 88201" in html
    assert "Awaiting confirmation" in html


def test_refund_operations_cancel_a_request_the_holder_did_not_make(signed_in):
    client = signed_in(REFUND_OPERATIONS)
    change = AddressChangeRequestFactory()
    url = reverse(
        "admin:refunds_addresschangerequest_actions", kwargs={"pk": change.pk, "tool": "cancel"}
    )
    client.post(url, {"apply": "1", "reason": "Holder called: not them"})
    change.refresh_from_db()
    assert (change.status, change.decision_reason) == ("cancelled", "Holder called: not them")
    assert client.post(approve_url(change), {"apply": "1", "reason": "x"}).status_code == 200
    change.refresh_from_db()
    assert change.status == AddressChangeRequest.Status.CANCELLED
    assert not Refund.objects.filter(replaces=change.refund).exists()
