"""Refund status without signing in (SPEC B2)."""

import re

import pytest
from django.urls import reverse

from portal.actors import SYSTEM
from refunds.services import closure_confirm
from tests.factories import AdvanceConnectFactory, LedgerEntryFactory

pytestmark = pytest.mark.django_db

URL = reverse("refund_status")


@pytest.fixture
def closure():
    ac = AdvanceConnectFactory(account__holder__last_name="Okafor")
    LedgerEntryFactory(advance_connect=ac, by_moneygram=True, amount_cents=3300)
    return closure_confirm(account=ac.account, actor=SYSTEM)


def look_up(client, reference, zip_code="78702", last_name="Okafor", **extra):
    data = {"reference": reference, "zip_code": zip_code, "last_name": last_name}
    return client.post(URL, data, **extra)


def test_right_details_show_status_method_amount_and_due_date(client, closure):
    response = look_up(client, closure.reference)
    html = response.content.decode()
    refund = closure.refunds.get()
    assert response.status_code == 200
    assert 'Refund check: <span class="money">$33.00</span>' in html
    assert '<dd class="col-6 refund-state">Pending</dd>' in html
    assert refund.due_date.strftime("%B %-d, %Y") in html
    assert "Not yet" in html  # not mailed yet
    # Nothing else: no address, no account number, no email.
    assert "1200 E 6TH ST" not in html
    assert closure.account.number not in html
    assert closure.account.holder.email not in html


def test_reference_is_accepted_the_way_people_type_it(client, closure):
    typed = closure.reference.lower().replace("-", " ")
    assert "refund-state" in look_up(client, typed, last_name=" okafor ").content.decode()


def test_every_kind_of_mismatch_gets_the_same_answer(client, closure):
    def answer(response):
        html = response.content.decode()
        return response.status_code, html.replace(closure.reference, "").split("<main")[1]

    wrong_reference = answer(look_up(client, "CL-AAAA-BBBB"))
    wrong_zip = answer(look_up(client, closure.reference, zip_code="10001"))
    wrong_name = answer(look_up(client, closure.reference, last_name="Smith"))
    assert wrong_reference[0] == wrong_zip[0] == wrong_name[0] == 200
    # Same page apart from the values the person typed back into the form.
    strip = [
        lambda h: h.replace("CL-AAAA-BBBB", "").replace("10001", "").replace("78702", ""),
        lambda h: h.replace("Smith", "").replace("Okafor", ""),
    ]

    def normal(html):
        for f in strip:
            html = f(html)
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)

    assert normal(wrong_reference[1]) == normal(wrong_zip[1]) == normal(wrong_name[1])
    assert 'id="no-match"' in wrong_zip[1]


def test_eight_wrong_lookups_by_one_visitor_do_not_stop_the_holder(client, closure):
    """A visitor typing wrong details on a reference cannot lock out the holder, who
    gets in from their own device with the right ZIP and name."""
    for _ in range(8):
        wrong = look_up(client, closure.reference, last_name="Wrong", REMOTE_ADDR="203.0.113.7")
        assert 'id="no-match"' in wrong.content.decode()
    holder = look_up(client, closure.reference, REMOTE_ADDR="198.51.100.20")
    assert holder.status_code == 200
    assert "refund-state" in holder.content.decode()


def test_one_client_is_limited_to_20_lookups_an_hour(client, closure):
    """The per-client limit: a guesser moving from reference to reference is stopped."""
    statuses = [
        look_up(client, f"CL-AAAA-{n:04d}", REMOTE_ADDR="203.0.113.7").status_code
        for n in range(21)
    ]
    assert statuses == [200] * 20 + [429]
    assert (
        "Too many tries"
        in look_up(client, closure.reference, REMOTE_ADDR="203.0.113.7").content.decode()
    )
    # Another client is still answered.
    assert (
        "refund-state"
        in look_up(client, closure.reference, REMOTE_ADDR="198.51.100.20").content.decode()
    )


def test_a_reference_is_limited_to_30_lookups_an_hour_from_all_clients(client, closure):
    """The per-reference limit: many clients guessing one reference's ZIP and name are
    stopped together (one client alone never reaches it: 20 < 30)."""
    statuses = [
        look_up(
            client, closure.reference, zip_code=f"{10000 + n}", REMOTE_ADDR=f"203.0.113.{n}"
        ).status_code
        for n in range(31)
    ]
    assert statuses == [200] * 30 + [429]
    # Another reference is still answered.
    assert look_up(client, "CL-AAAA-BBBB", REMOTE_ADDR="203.0.113.200").status_code == 200


def test_the_page_needs_no_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 200
    assert "Closure reference" in response.content.decode()
