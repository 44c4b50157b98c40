"""Staff see what holders see (issue 10): dollars, not cents; times in the business time
zone with the zone named; codes in words."""

import datetime as dt

import pytest
from django.urls import reverse

from accounts.models import CustomerAccount
from accounts.services import Activity
from refunds.roles import REFUND_OPERATIONS, SUPPORT
from tests.factories.refunds import ClosureFactory

pytestmark = pytest.mark.django_db

# 18:30 UTC on 15 January is 12:30 p.m. Central Standard Time (business zone, SPEC §0).
CLOSED_AT = dt.datetime(2026, 1, 15, 18, 30, tzinfo=dt.UTC)


@pytest.fixture
def closure():
    return ClosureFactory(
        closed_at=CLOSED_AT,
        account__closed_at=CLOSED_AT,
        balance_before_cents=2265,
        deducted_cents=315,
        refund_cents=1950,
        debit_untouched_cents=3100,
        top_ups_terminated="textpay,autopay",
    )


def test_the_closure_page_shows_every_amount_in_dollars(signed_in, closure):
    client = signed_in(REFUND_OPERATIONS)
    html = client.get(reverse("admin:refunds_closure_change", args=[closure.pk])).content.decode()
    for dollars in ("$22.65", "$3.15", "$19.50", "$31.00"):
        assert dollars in html
    for cents in ("2265", "1950", "3100"):
        assert f">{cents}<" not in html
    assert "TextPay, AutoPay" in html and "textpay,autopay" not in html


def test_admin_times_are_in_the_business_zone_with_the_zone_named(signed_in, closure):
    client = signed_in(REFUND_OPERATIONS)
    html = client.get(reverse("admin:refunds_closure_change", args=[closure.pk])).content.decode()
    assert "12:30 p.m." in html and "6:30 p.m." not in html
    assert "Times are Central Time (C" in html  # CST or CDT, whichever is in force now


def test_activity_kinds_read_as_words(signed_in, closure):
    account = closure.account
    CustomerAccount.objects.filter(pk=account.pk).update(last_activity_kind=Activity.SIGN_IN)
    client = signed_in(SUPPORT)
    page = client.get(reverse("admin:accounts_customeraccount_change", args=[account.pk]))
    html = page.content.decode()
    assert "sign-in" in html and "sign_in" not in html
