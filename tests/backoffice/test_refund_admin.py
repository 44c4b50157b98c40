"""Refund operations in the admin: buttons and bulk actions call the SPEC §3 services,
and the list shows what needs doing."""

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from portal.business_calendar import business_date
from refunds.models import Refund
from refunds.roles import REFUND_OPERATIONS
from tests.factories.refunds import ClosureFactory, RefundFactory

pytestmark = pytest.mark.django_db

S = Refund.Status
TODAY = business_date(timezone.now())
CHANGELIST = reverse("admin:refunds_refund_changelist")


@pytest.fixture
def clerk(signed_in):
    return signed_in(REFUND_OPERATIONS)


def button(refund, tool):
    return reverse("admin:refunds_refund_actions", kwargs={"pk": refund.pk, "tool": tool})


def said(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_mark_issued_asks_for_the_check_number_then_issues(clerk):
    refund = RefundFactory()
    page = clerk.get(button(refund, "mark_issued"))
    assert page.status_code == 200
    assert b'name="check_number"' in page.content and refund.closure.reference.encode() in (
        page.content
    )
    done = clerk.post(
        button(refund, "mark_issued"),
        {"apply": "1", "check_number": "204511", "issued_on": TODAY.isoformat()},
    )
    assert done.status_code == 302
    refund.refresh_from_db()
    assert (refund.status, refund.check_number, refund.issued_on) == (S.ISSUED, "204511", TODAY)
    assert said(done) == [f"The check 204511 ({refund.closure.reference}, $42.50) is now issued."]


def test_a_refused_move_is_explained_on_the_form_and_changes_nothing(clerk):
    RefundFactory(issued=True, check_number="204511")
    refund = RefundFactory()
    page = clerk.post(
        button(refund, "mark_issued"),
        {"apply": "1", "check_number": "204511", "issued_on": TODAY.isoformat()},
    )
    assert page.status_code == 200
    assert b"Check number 204511 is already used" in page.content
    refund.refresh_from_db()
    assert refund.status == S.PENDING


def test_a_button_without_a_form_acts_on_post_only(clerk):
    refund = RefundFactory(submitted=True)
    assert clerk.get(button(refund, "mark_settled")).status_code == 405
    response = clerk.post(button(refund, "mark_settled"))
    refund.refresh_from_db()
    assert refund.status == S.SETTLED
    assert response.url == reverse("admin:refunds_refund_change", args=[refund.pk])


def test_reissue_to_a_corrected_address_opens_the_new_check(clerk):
    old = RefundFactory(returned=True)
    response = clerk.post(
        button(old, "reissue"),
        {
            "apply": "1",
            "line1": "455 Peachtree St NE",
            "line2": "",
            "city": "Atlanta",
            "state": "GA",
            "zip_code": "30308",
            "reason": "Holder called with the new address",
        },
    )
    new = Refund.objects.get(replaces=old)
    assert response.url == reverse("admin:refunds_refund_change", args=[new.pk])
    assert new.address_lines() == ["455 PEACHTREE ST NE", "ATLANTA GA 30308"]
    assert "A new refund check" in said(response)[0]


def test_the_reissue_form_checks_the_address_like_the_holder_pages(clerk):
    """Rules B3, D2: one validator for every address: a first line that is not a street,
    a state by name, and a lowercase typed address saved in USPS style."""
    old = RefundFactory(returned=True)
    address = {"apply": "1", "line2": "", "city": "atlanta", "zip_code": "30308", "reason": ""}
    page = clerk.post(button(old, "reissue"), {**address, "line1": "asdf", "state": "Georgia"})
    assert page.status_code == 200
    assert "Enter the street address with its number" in " ".join(
        page.context["form"].errors["line1"]
    )
    assert not Refund.objects.filter(replaces=old).exists()
    clerk.post(button(old, "reissue"), {**address, "line1": "455 peachtree  st ne", "state": "GA"})
    assert Refund.objects.get(replaces=old).address_lines() == [
        "455 PEACHTREE ST NE",
        "ATLANTA GA 30308",
    ]


def test_bulk_mark_issued_asks_one_check_number_per_check(clerk):
    first, second = RefundFactory(), RefundFactory()
    selection = {"action": "bulk_mark_issued", "_selected_action": [first.pk, second.pk]}
    page = clerk.post(CHANGELIST, selection)
    assert page.status_code == 200
    assert f'name="check_number_{first.pk}"'.encode() in page.content
    response = clerk.post(
        CHANGELIST,
        {
            **selection,
            "apply": "1",
            "issued_on": TODAY.isoformat(),
            f"check_number_{first.pk}": "300001",
            f"check_number_{second.pk}": "300002",
        },
    )
    assert response.status_code == 302
    numbers = dict(Refund.objects.values_list("pk", "check_number"))
    assert (numbers[first.pk], numbers[second.pk]) == ("300001", "300002")
    assert said(response) == ["Mark issued: 2 of 2 done."]


def test_bulk_moves_say_what_was_done_and_what_was_refused(clerk):
    issued, pending = RefundFactory(issued=True), RefundFactory()
    response = clerk.post(
        CHANGELIST,
        {
            "action": "bulk_mark_mailed",
            "_selected_action": [issued.pk, pending.pk],
            "apply": "1",
            "mailed_on": TODAY.isoformat(),
        },
    )
    issued.refresh_from_db()
    pending.refresh_from_db()
    assert (issued.status, pending.status) == (S.MAILED, S.PENDING)
    messages = said(response)
    assert "is pending, so it cannot be marked mailed" in messages[0]
    assert messages[1] == "Mark mailed: 1 of 2 done."


def test_bulk_failing_card_refunds_replaces_each_with_a_check(clerk):
    cards = [RefundFactory(submitted=True), RefundFactory(card=True)]
    clerk.post(
        CHANGELIST,
        {
            "action": "bulk_mark_failed",
            "_selected_action": [card.pk for card in cards],
            "apply": "1",
            "reason": "Processor rejected",
        },
    )
    for card in cards:
        card.refresh_from_db()
        assert card.status == S.FAILED
        assert card.replaced_by.method == Refund.Method.CHECK


def test_the_list_shows_money_in_dollars_and_flags_overdue_refunds(clerk):
    late = RefundFactory(overdue=True, amount_cents=123456)
    RefundFactory(mailed=True, overdue=True)  # mailed: in the holder's hands, not overdue
    RefundFactory()  # not due yet
    page = clerk.get(CHANGELIST)
    assert b"$1,234.56" in page.content
    # the overdue flag, in words, on one row
    assert page.content.count(b'<td class="field-attention">overdue</td>') == 1
    overdue = clerk.get(CHANGELIST, {"overdue": "yes"}).context["cl"].result_list
    assert [refund.pk for refund in overdue] == [late.pk]


def test_the_list_says_which_refunds_need_attention_in_words(clerk):
    """Overdue and needs staff review share one column, written only where true."""
    RefundFactory(overdue=True, needs_review=True)
    RefundFactory(needs_review=True)
    RefundFactory()
    listing = clerk.get(CHANGELIST).content.decode()
    assert listing.count('<td class="field-attention">overdue, needs staff review</td>') == 1
    assert listing.count('<td class="field-attention">needs staff review</td>') == 1
    assert listing.count('<td class="field-attention">-</td>') == 1


def test_the_list_filters_by_due_date_range_state_and_method(clerk):
    soon = RefundFactory(due_date=TODAY + dt.timedelta(days=2))
    RefundFactory(due_date=TODAY + dt.timedelta(days=30))
    in_nm = RefundFactory(closure__account__service_state="NM")
    card = RefundFactory(card=True)

    def listed(**query):
        return {r.pk for r in clerk.get(CHANGELIST, query).context["cl"].result_list}

    in_range = listed(
        due_date__range__gte=TODAY.isoformat(),
        due_date__range__lte=(TODAY + dt.timedelta(days=5)).isoformat(),
    )
    assert soon.pk in in_range and card.pk in in_range and len(in_range) == 2
    assert listed(closure__account__service_state__exact="NM") == {in_nm.pk}
    assert listed(method__exact="card") == {card.pk}


def test_staff_find_a_refund_by_closure_reference_or_check_number(clerk):
    refund = RefundFactory(issued=True, check_number="887766")
    RefundFactory()
    for term in (refund.closure.reference, "887766"):
        found = clerk.get(CHANGELIST, {"q": term}).context["cl"].result_list
        assert [r.pk for r in found] == [refund.pk]


def test_staff_cannot_add_or_delete_refunds_or_closures(clerk):
    refund = RefundFactory()
    assert clerk.get(reverse("admin:refunds_refund_add")).status_code == 403
    assert clerk.post(reverse("admin:refunds_refund_delete", args=[refund.pk])).status_code == 403
    assert clerk.get(reverse("admin:refunds_closure_add")).status_code == 403
    change = clerk.get(reverse("admin:refunds_refund_change", args=[refund.pk]))
    assert b'name="amount_cents"' not in change.content and b'name="status"' not in change.content


def test_a_direct_bill_closure_shows_its_hold_window(clerk):
    closure = ClosureFactory(direct_bill_held=True)
    page = clerk.get(reverse("admin:refunds_closure_change", args=[closure.pk]))
    start, end = TODAY + dt.timedelta(days=7), TODAY + dt.timedelta(days=10)
    assert f"{start} to {end}: held".encode() in page.content
