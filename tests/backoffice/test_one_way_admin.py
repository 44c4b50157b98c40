"""The back office's side of issue 12: audit actions read as labels, and a refusal in
an admin action is a message that changes nothing."""

import pytest
from django.db import transaction
from django.urls import reverse

from portal.actors import SYSTEM
from portal.audit import AuditAction, audit_record
from portal.models import AuditEvent
from refunds.models import Refund
from refunds.roles import AUDITOR, REFUND_OPERATIONS
from tests.factories.refunds import RefundFactory

pytestmark = pytest.mark.django_db


def test_staff_read_the_action_label_in_the_audit_trail(client, signed_in):
    refund = RefundFactory()
    with transaction.atomic():
        audit_record(actor=SYSTEM, action=AuditAction.REFUND_STALE, target=refund)
    page = signed_in(AUDITOR).get(reverse("admin:portal_auditevent_changelist"))
    assert "Check marked stale" in page.content.decode()


def test_a_refusal_in_an_admin_action_is_a_message_and_writes_nothing(client, signed_in):
    """SPEC §3: a check never settles (card refunds do); the bulk action says so."""
    pending = RefundFactory()
    events = AuditEvent.objects.count()
    response = signed_in(REFUND_OPERATIONS).post(
        reverse("admin:refunds_refund_changelist"),
        {"action": "bulk_mark_settled", "_selected_action": [pending.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "so it cannot be marked settled" in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == Refund.Status.PENDING
    assert AuditEvent.objects.count() == events
