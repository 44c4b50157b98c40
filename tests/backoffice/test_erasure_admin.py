"""Rule B7 in the back office: Support places and lifts legal holds; staff see the days."""

import pytest
from django.urls import reverse

from portal.models import AuditEvent
from tests.refunds.test_erasure import card_settled_on_day_3

pytestmark = pytest.mark.django_db


def test_support_places_a_hold_and_staff_see_the_days_on_the_account_page(signed_in):
    account, _closure = card_settled_on_day_3()
    support = signed_in("Support")
    url = reverse(
        "admin:accounts_customeraccount_actions",
        kwargs={"pk": account.pk, "tool": "place_legal_hold"},
    )
    response = support.post(url, {"apply": "1", "reason": "Subpoena 26-114", "until": ""})
    assert response.status_code == 302
    hold = account.legal_holds.get()
    assert (hold.reason, hold.until, hold.placed_by.is_staff) == ("Subpoena 26-114", None, True)
    assert AuditEvent.objects.filter(action="legal_hold.placed").count() == 1
    change = reverse("admin:accounts_customeraccount_change", args=[account.pk])
    page = support.get(change).content.decode()
    assert "Sign-in identity: on 2026-04-08" in page and "On legal hold since" in page

    lift = reverse("admin:refunds_legalhold_actions", kwargs={"pk": hold.pk, "tool": "lift"})
    assert support.post(lift, {"apply": "1", "reason": "Case closed"}).status_code == 302
    hold.refresh_from_db()
    assert hold.lift_reason == "Case closed" and hold.lifted_at is not None


def test_a_hold_without_a_reason_is_refused_in_plain_words(signed_in):
    account, _closure = card_settled_on_day_3()
    support = signed_in("Support")
    url = reverse(
        "admin:accounts_customeraccount_actions",
        kwargs={"pk": account.pk, "tool": "place_legal_hold"},
    )
    response = support.post(url, {"apply": "1", "reason": "", "until": ""})
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    assert not account.legal_holds.exists()


def test_refund_operations_cannot_place_a_hold(signed_in):
    account, _closure = card_settled_on_day_3()
    url = reverse(
        "admin:accounts_customeraccount_actions",
        kwargs={"pk": account.pk, "tool": "place_legal_hold"},
    )
    response = signed_in("Refund operations").post(url, {"apply": "1", "reason": "x"})
    assert response.status_code == 403
    assert not account.legal_holds.exists()
