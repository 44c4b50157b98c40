"""The shared kernel, one way to do each thing (issue 12): refusals reach people as a
message and change nothing, audit actions are declared, actors are typed, and the
business's numbers come from settings, in code and on the pages."""

import datetime as dt

import pytest
from django.db import transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from portal.actors import HOLDER_BY_EMAILED_LINK, HOLDER_ON_STATUS_PAGE, SYSTEM, HolderActor
from portal.audit import AuditAction, audit_record
from portal.business_calendar import business_date
from portal.errors import Refused
from portal.models import AuditEvent
from refunds.models import AddressChangeRequest
from refunds.services import claims, closure_confirm
from refunds.services.statements import final_statement_issue
from tests.factories import DirectBillChargeFactory
from tests.factories.refunds import RefundFactory

pytestmark = pytest.mark.django_db

NEW_ADDRESS = {"line1": "455 W 2ND ST", "line2": "", "city": "ROSWELL", "state": "NM"}


# --- audit actions and actors ---


def test_an_action_not_declared_is_refused_and_nothing_is_written():
    refund = RefundFactory()
    before = AuditEvent.objects.count()
    with pytest.raises(ValueError, match="declare it in AuditAction"), transaction.atomic():
        audit_record(actor=SYSTEM, action="refund.teleported", target=refund)
    assert AuditEvent.objects.count() == before


def test_a_free_string_is_not_an_actor():
    with pytest.raises(TypeError, match="not an actor"), transaction.atomic():
        audit_record(actor="system", action=AuditAction.REFUND_CREATED, target=RefundFactory())


def test_actors_keep_the_labels_older_entries_carry():
    """Rows written before the typed actor said `system` and `holder (...)`: new rows
    say the same, so the trail reads alike across the change."""
    refund = RefundFactory()
    with transaction.atomic():
        events = [
            audit_record(actor=actor, action=AuditAction.REFUND_CREATED, target=refund)
            for actor in (SYSTEM, HOLDER_ON_STATUS_PAGE, HOLDER_BY_EMAILED_LINK)
        ]
    assert [(event.actor_id, event.actor_label) for event in events] == [
        (None, "system"),
        (None, "holder (refund status page)"),
        (None, "holder (confirmed by the emailed link)"),
    ]
    assert HolderActor("a call").label == "holder (a call)"


# --- a refusal is a message, never a 500, and nothing is written ---


def test_a_refusal_in_the_public_claim_view_is_a_message_and_writes_nothing(
    client, returned_check, monkeypatch
):
    """The service refuses after it has started writing (its audit row): the request
    row it made is rolled back, and the holder reads why, on the page, with no 500."""
    closure = returned_check.closure
    client.post(
        reverse("refund_status"),
        {"reference": closure.reference, "zip_code": "78702", "last_name": "Okafor"},
    )

    def refuse(**kwargs):
        raise Refused("We cannot take a new address for this refund right now.")

    monkeypatch.setattr(claims, "audit_record", refuse)
    events = AuditEvent.objects.count()
    response = client.post(
        reverse("refund_claim"), {"action": "use_typed", **NEW_ADDRESS, "zip_code": "88201"}
    )
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "We cannot take a new address for this refund right now." in page
    assert 'class="alert alert-danger"' in page
    assert not AddressChangeRequest.objects.filter(closure=closure).exists()
    assert AuditEvent.objects.count() == events


# --- the business's numbers, from settings ---


@pytest.fixture
def direct_bill_holder():
    return DirectBillChargeFactory(amount_cents=315).direct_bill.account


def test_the_review_page_says_the_numbers_the_settings_hold(client, direct_bill_holder):
    """Rule E5: the hold and the statement's due days on the page follow the settings."""
    client.force_login(direct_bill_holder.holder)
    page = client.get(reverse("delete_account:review")).content.decode()
    assert "held for 7 to 10 days" in page and "due 20 days after its date" in page
    with override_settings(
        DIRECT_BILL_HOLD_FROM_DAYS=8, DIRECT_BILL_HOLD_UNTIL_DAYS=12, FINAL_STATEMENT_DUE_DAYS=25
    ):
        page = client.get(reverse("delete_account:review")).content.decode()
    assert "held for 8 to 12 days" in page and "due 25 days after its date" in page
    assert "20 days" not in page


@override_settings(FINAL_STATEMENT_DUE_DAYS=25, DIRECT_BILL_HOLD_FROM_DAYS=8)
def test_the_services_use_the_numbers_the_settings_hold(direct_bill_holder):
    """Rules E5 and §4, with other numbers: held 8 days, the bill due 25 days later."""
    now = timezone.now()
    closure = closure_confirm(account=direct_bill_holder, actor=SYSTEM, at=now)
    assert closure.direct_bill_hold_from == business_date(now) + dt.timedelta(days=8)
    statement = final_statement_issue(closure=closure, at=now + dt.timedelta(days=8))
    assert statement.due_date == statement.statement_date + dt.timedelta(days=25)
