"""The "letters to mail" list: inactivity notices that could not be emailed, with the
holder's address; Support and Refund operations mark them mailed, audited (rule N3)."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.models import AuditEvent
from refunds.roles import AUDITOR, REFUND_OPERATIONS, SUPPORT
from refunds.services.inactivity import inactivity_notices_send
from tests.factories import AdvanceConnectFactory, UserFactory

pytestmark = pytest.mark.django_db

LETTERS = reverse("admin:refunds_inactivityletter_changelist")


@pytest.fixture
def letter_account():
    return AdvanceConnectFactory(
        account__new_mexico=True,
        account__holder=UserFactory(email=""),
        account__last_activity_at=timezone.now() - dt.timedelta(days=200),
    ).account


def listed(client, **query):
    return [row.pk for row in client.get(LETTERS, query).context["cl"].result_list]


@pytest.mark.parametrize("role", [SUPPORT, REFUND_OPERATIONS])
def test_staff_see_the_letter_with_the_address_and_mark_it_mailed(signed_in, letter_account, role):
    [letter] = inactivity_notices_send()
    client = signed_in(role)
    page = client.get(LETTERS, {"state": "to_mail"})
    assert page.status_code == 200
    assert page.context["cl"].result_list[0].pk == letter.pk
    assert letter_account.addresses.get().line1 in page.content.decode()

    client.post(LETTERS, {"action": "bulk_mark_mailed", "_selected_action": [letter.pk]})
    letter.refresh_from_db()
    assert letter.sent_at is not None
    event = AuditEvent.objects.get(action="inactivity_letter.mailed")
    assert event.object_id == str(letter.pk)
    assert listed(client, state="to_mail") == []
    assert listed(client, state="mailed") == [letter.pk]


def test_auditors_see_the_letters_and_cannot_mark_them(signed_in, letter_account):
    [letter] = inactivity_notices_send()
    client = signed_in(AUDITOR)
    assert listed(client) == [letter.pk]
    client.post(LETTERS, {"action": "bulk_mark_mailed", "_selected_action": [letter.pk]})
    letter.refresh_from_db()
    assert letter.sent_at is None


def test_a_letter_overtaken_by_activity_is_no_longer_needed(signed_in, letter_account):
    [letter] = inactivity_notices_send()
    letter_account.last_activity_at = timezone.now()
    letter_account.save(update_fields=["last_activity_at"])
    client = signed_in(REFUND_OPERATIONS)
    assert listed(client, state="to_mail") == []
    assert listed(client, state="not_needed") == [letter.pk]
    response = client.post(
        LETTERS, {"action": "bulk_mark_mailed", "_selected_action": [letter.pk]}, follow=True
    )
    assert "no longer needed" in response.content.decode()
    letter.refresh_from_db()
    assert letter.sent_at is None
