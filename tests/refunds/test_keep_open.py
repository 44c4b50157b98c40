"""My Account shows New Mexico holders their closure date, the balance's fate and a
Keep-open button; the notice links to a sign-in page with the same button (rule N3)."""

import pytest
from django.urls import reverse

from accounts.services import Activity
from portal.models import AuditEvent
from refunds.models import InactivityNotice
from tests.factories import AdvanceConnectFactory, LedgerEntryFactory

pytestmark = pytest.mark.django_db

KEEP_OPEN = reverse("keep_account_open")
MY_ACCOUNT = reverse("accounts:my_account")


@pytest.fixture
def nm_holder(client):
    ac = AdvanceConnectFactory(account__new_mexico=True)
    LedgerEntryFactory(advance_connect=ac, amount_cents=1760, card_last4="5100")
    client.force_login(ac.account.holder)
    return ac.account


def test_new_mexico_holder_sees_the_date_the_balance_and_the_button(client, nm_holder):
    page = client.get(MY_ACCOUNT).content.decode()
    assert "Without activity, this account will be closed on" in page
    assert "$17.60 today, would then be refunded to your" in page
    assert "ending in 5100" in page
    assert f'action="{KEEP_OPEN}"' in page
    assert "Keep my account open" in page


def test_holders_elsewhere_see_nothing_of_it(client):
    holder = AdvanceConnectFactory().account.holder
    client.force_login(holder)
    assert "Keep my account open" not in client.get(MY_ACCOUNT).content.decode()
    assert client.get(KEEP_OPEN).status_code == 404
    assert client.post(KEEP_OPEN).status_code == 404


def test_the_link_needs_a_sign_in(client):
    response = client.get(KEEP_OPEN)
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_get_shows_and_never_acts(client, nm_holder):
    before = nm_holder.last_activity_at
    page = client.get(KEEP_OPEN)
    assert page.status_code == 200
    assert b"Keep my account open" in page.content
    nm_holder.refresh_from_db()
    assert nm_holder.last_activity_at == before
    assert not AuditEvent.objects.filter(action="account.kept_open").exists()


def test_post_keeps_the_account_open_and_ends_pending_notices(client, nm_holder):
    pending = InactivityNotice.objects.create(
        account=nm_holder,
        days_before=30,
        inactive_since=nm_holder.last_activity_at,
        closes_on=nm_holder.last_activity_at.date(),
        created_at=nm_holder.last_activity_at,
    )
    response = client.post(KEEP_OPEN, follow=True)
    assert b"Your account stays open" in response.content
    nm_holder.refresh_from_db()
    assert nm_holder.last_activity_kind == Activity.KEEP_OPEN
    assert nm_holder.last_activity_at > pending.inactive_since
    assert AuditEvent.objects.get(action="account.kept_open").actor == nm_holder.holder
