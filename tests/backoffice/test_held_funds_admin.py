"""Held funds in the back office (rules N4, N5, B6, S5.roles): Refund operations hold a
check's money, record the owner notice and the final disposition, and send the money
to an address the holder gives; Support and Auditors see it all and change nothing."""

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from accounts.models import CustomerAccount
from portal.business_calendar import business_date
from portal.models import AuditEvent
from refunds.admin.base import LIST_PER_PAGE
from refunds.models import HeldFunds, Refund
from refunds.roles import AUDITOR, REFUND_OPERATIONS, SUPPORT
from tests.factories.refunds import (
    HeldFundsFactory,
    RefundFactory,
    held_funds_in_bulk,
)

pytestmark = pytest.mark.django_db

S = Refund.Status
H = HeldFunds.Status
TODAY = business_date(timezone.now())
CHANGELIST = reverse("admin:refunds_heldfunds_changelist")
REFUNDS = reverse("admin:refunds_refund_changelist")
BUTTONS = {
    "record_owner_notice": {"mailed_on": TODAY.isoformat()},
    "record_disposition": {
        "remitted_on": TODAY.isoformat(),
        "state": "TX",
        "report_reference": "TX-UP-2026-0001",
    },
    "send_to_address": {
        "line1": "455 Peachtree St NE",
        "line2": "",
        "city": "Atlanta",
        "state": "GA",
        "zip_code": "30308",
    },
}
LABELS = [b"Record owner notice mailed", b"Record final disposition", b"Send to an address"]


@pytest.fixture
def clerk(signed_in):
    return signed_in(REFUND_OPERATIONS)


def button(held, tool):
    return reverse("admin:refunds_heldfunds_actions", kwargs={"pk": held.pk, "tool": tool})


def refund_button(refund, tool="hold_funds"):
    return reverse("admin:refunds_refund_actions", kwargs={"pk": refund.pk, "tool": tool})


def said(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def state_of(held):
    """Everything a button could change, to show that nothing did."""
    held.refresh_from_db()
    return (
        held.status,
        held.owner_notice_mailed_on,
        held.remitted_on,
        held.report_reference,
        held.claimed_by_refund_id,
        Refund.objects.count(),
        AuditEvent.objects.count(),
    )


# --- the list and the page ---


def test_the_list_shows_each_holding_in_plain_words(clerk):
    held = HeldFundsFactory(
        amount_cents=123456,
        closure__account__holder__first_name="Charles",
        closure__account__holder__last_name="Okafor",
    )
    HeldFundsFactory(remitted=True)
    page = clerk.get(CHANGELIST)
    assert page.status_code == 200
    text = page.content.decode()
    for shown in (held.closure.reference, "Charles Okafor", "$1,234.56", "Moved away", "Held"):
        assert shown in text
    assert "TX-UP-2026-0001" in text and "Remitted to the state" in text


def test_the_list_filters_by_status_held_since_and_state_and_finds_by_reference_email_or_account(
    clerk,
):
    old = HeldFundsFactory(held_since=timezone.now() - dt.timedelta(days=40))
    remitted = HeldFundsFactory(remitted=True)
    recent = HeldFundsFactory(
        closure__account__holder__email="okafor@example.test", closure__account__number="712345678"
    )

    def listed(**query):
        return {held.pk for held in clerk.get(CHANGELIST, query).context["cl"].result_list}

    assert listed(status__exact="held") == {old.pk, recent.pk}
    assert listed(
        held_since__range__gte=(TODAY - dt.timedelta(days=5)).isoformat(),
        held_since__range__lte=TODAY.isoformat(),
    ) == {remitted.pk, recent.pk}
    assert listed(remitted_to_state__exact="TX") == {remitted.pk}
    for term in (recent.closure.reference, "okafor@example.test", "712345678"):
        assert listed(q=term) == {recent.pk}


def test_the_page_is_read_only_and_shows_who_did_what(clerk):
    refund = RefundFactory(returned=True)
    clerk.post(refund_button(refund), {"apply": "1", "reason": "No forwarding address"})
    held = HeldFunds.objects.get(refund=refund)
    page = clerk.get(reverse("admin:refunds_heldfunds_change", args=[held.pk]))
    assert page.status_code == 200
    assert b'name="amount_cents"' not in page.content and b'name="status"' not in page.content
    text = page.content.decode()
    assert "<td>Funds held</td>" in text and "No forwarding address" in text
    assert "1200 E 6TH ST, AUSTIN TX 78702" in text  # where the check went
    for label in LABELS:
        assert label in page.content


@pytest.mark.parametrize("trait", ["remitted", "claimed"])
def test_funds_no_longer_held_have_no_buttons(clerk, trait):
    if trait == "claimed":
        held = HeldFundsFactory()
        clerk.post(button(held, "send_to_address"), {"apply": "1", **BUTTONS["send_to_address"]})
    else:
        held = HeldFundsFactory(remitted=True)
    page = clerk.get(reverse("admin:refunds_heldfunds_change", args=[held.pk]))
    assert not any(label in page.content for label in LABELS)


# --- the buttons, for Refund operations ---


def test_record_owner_notice_asks_for_the_date_then_records_it(clerk):
    held = HeldFundsFactory()
    page = clerk.get(button(held, "record_owner_notice"))
    assert page.status_code == 200
    assert b'name="mailed_on"' in page.content and held.closure.reference.encode() in page.content
    mailed_on = TODAY - dt.timedelta(days=3)
    done = clerk.post(
        button(held, "record_owner_notice"), {"apply": "1", "mailed_on": mailed_on.isoformat()}
    )
    assert done.url == reverse("admin:refunds_heldfunds_change", args=[held.pk])
    held.refresh_from_db()
    assert held.owner_notice_mailed_on == mailed_on
    event = AuditEvent.objects.get(action="held_funds.owner_notice")
    assert event.actor_id == done.wsgi_request.user.pk
    assert said(done) == [
        f"Owner notice mailed on {mailed_on}: recorded for the held funds of "
        f"{held.closure.reference} ($42.50)."
    ]


def test_record_final_disposition_after_the_owner_notice(clerk):
    held = HeldFundsFactory(noticed=True)
    done = clerk.post(
        button(held, "record_disposition"), {"apply": "1", **BUTTONS["record_disposition"]}
    )
    assert done.status_code == 302
    held.refresh_from_db()
    assert (held.status, held.remitted_on, held.remitted_to_state, held.report_reference) == (
        H.REMITTED,
        TODAY,
        "TX",
        "TX-UP-2026-0001",
    )
    assert AuditEvent.objects.filter(action="held_funds.remitted").count() == 1


def test_the_disposition_form_suggests_the_accounts_state(clerk):
    held = HeldFundsFactory(closure__account__service_state="NM")
    page = clerk.get(button(held, "record_disposition"))
    assert page.context["form"].initial == {"state": "NM"}


def test_a_disposition_without_an_owner_notice_is_refused_in_plain_words(clerk):
    held = HeldFundsFactory()
    before = state_of(held)
    page = clerk.post(
        button(held, "record_disposition"), {"apply": "1", **BUTTONS["record_disposition"]}
    )
    assert page.status_code == 200
    assert b"Mail the owner notice before remitting (rule B6). Nothing was changed." in page.content
    assert state_of(held) == before


def test_new_mexico_wants_the_owner_notice_60_to_120_days_before_the_report(clerk):
    held = HeldFundsFactory(
        closure__account__service_state="NM",
        amount_cents=6150,
        owner_notice_mailed_on=TODAY - dt.timedelta(days=30),
    )
    before = state_of(held)
    page = clerk.post(
        button(held, "record_disposition"),
        {**BUTTONS["record_disposition"], "apply": "1", "state": "NM"},
    )
    assert (
        b"NM wants the owner notice 60 to 120 days before the report; it was mailed 30 days "
        b"before (rule B6)." in page.content
    )
    assert state_of(held) == before


def test_send_to_an_address_pays_the_held_funds_out_by_a_new_check(clerk):
    held = HeldFundsFactory()
    page = clerk.get(button(held, "send_to_address"))
    assert b'name="zip_code"' in page.content
    done = clerk.post(button(held, "send_to_address"), {"apply": "1", **BUTTONS["send_to_address"]})
    held.refresh_from_db()
    check = held.claimed_by_refund
    assert held.status == H.CLAIMED
    assert (check.method, check.status, check.amount_cents, check.replaces) == (
        Refund.Method.CHECK,
        S.PENDING,
        4250,
        held.refund,
    )
    assert check.address_lines() == ["455 PEACHTREE ST NE", "ATLANTA GA 30308"]
    assert done.url == reverse("admin:refunds_refund_change", args=[check.pk])
    assert said(done) == [
        f"A refund check for $42.50 to 455 PEACHTREE ST NE, ATLANTA GA 30308 pays out the "
        f"held funds of {held.closure.reference} ($42.50); mail it by {check.due_date}."
    ]
    # rule N5: the request counts as activity (N2)
    account = CustomerAccount.objects.get(pk=held.closure.account_id)
    assert account.last_activity_at >= held.status_changed_at


def test_an_address_that_is_not_one_is_refused_on_the_form(clerk):
    held = HeldFundsFactory()
    before = state_of(held)
    page = clerk.post(
        button(held, "send_to_address"),
        {"apply": "1", **BUTTONS["send_to_address"], "zip_code": "3030"},
    )
    assert page.status_code == 200 and page.context["form"].errors["zip_code"]
    assert state_of(held) == before


def test_funds_sent_to_the_state_cannot_be_sent_to_the_holder(clerk):
    held = HeldFundsFactory(remitted=True)
    before = state_of(held)
    page = clerk.post(button(held, "send_to_address"), {"apply": "1", **BUTTONS["send_to_address"]})
    assert b"These funds were already sent to the state as unclaimed property." in page.content
    assert state_of(held) == before


# --- Support and Auditors see held funds and change nothing ---


@pytest.mark.parametrize("role", [SUPPORT, AUDITOR])
def test_support_and_auditors_see_held_funds_without_buttons(signed_in, role):
    client = signed_in(role)
    held = HeldFundsFactory()
    assert client.get(CHANGELIST).status_code == 200
    page = client.get(reverse("admin:refunds_heldfunds_change", args=[held.pk]))
    assert page.status_code == 200 and held.closure.reference.encode() in page.content
    assert not any(label in page.content for label in LABELS)


@pytest.mark.parametrize("role", [SUPPORT, AUDITOR])
@pytest.mark.parametrize("tool", list(BUTTONS))
def test_support_and_auditors_are_refused_every_button(signed_in, role, tool):
    client = signed_in(role)
    held = HeldFundsFactory(noticed=True)
    before = state_of(held)
    assert client.get(button(held, tool)).status_code == 403
    assert client.post(button(held, tool), {"apply": "1", **BUTTONS[tool]}).status_code == 403
    change = reverse("admin:refunds_heldfunds_change", args=[held.pk])
    assert client.post(change, {"status": "remitted"}).status_code == 403
    assert state_of(held) == before


# --- "Hold the funds" on a refund check (rule N4) ---


@pytest.mark.parametrize(
    "refund_fields, offered",
    [
        ({"returned": True}, True),
        ({}, True),  # pending: never printed, no deliverable address
        ({"mailed": True}, False),
        ({"card": True}, False),
    ],
)
def test_hold_the_funds_is_offered_for_pending_and_returned_checks(clerk, refund_fields, offered):
    refund = RefundFactory(**refund_fields)
    page = clerk.get(reverse("admin:refunds_refund_change", args=[refund.pk]))
    assert (b"Hold the funds" in page.content) is offered


def test_hold_the_funds_voids_the_check_and_holds_its_money(clerk):
    refund = RefundFactory(returned=True)
    page = clerk.get(refund_button(refund))
    assert page.status_code == 200 and b'name="reason"' in page.content
    done = clerk.post(refund_button(refund), {"apply": "1", "reason": "No forwarding address"})
    held = HeldFunds.objects.get(refund=refund)
    refund.refresh_from_db()
    assert refund.status == S.VOID
    assert (held.amount_cents, held.status, held.reason) == (4250, H.HELD, "No forwarding address")
    assert done.url == reverse("admin:refunds_heldfunds_change", args=[held.pk])
    assert said(done) == [
        f"The check {refund.check_number} ({refund.closure.reference}, $42.50) is void; "
        "its money is held."
    ]


def test_a_check_that_left_meanwhile_is_not_held(clerk):
    refund = RefundFactory(returned=True)
    clerk.get(refund_button(refund))  # the form is open...
    Refund.objects.filter(pk=refund.pk).update(status=S.REISSUED)  # ...a colleague reissues
    page = clerk.post(refund_button(refund), {"apply": "1", "reason": "No forwarding address"})
    assert page.status_code == 200
    assert b"Only a pending or returned refund check can be held" in page.content
    refund.refresh_from_db()
    assert refund.status == S.REISSUED and not HeldFunds.objects.exists()


def test_bulk_hold_the_funds_asks_why_then_holds_each_check_it_can(clerk):
    returned, pending, mailed = (
        RefundFactory(returned=True),
        RefundFactory(),
        RefundFactory(mailed=True),
    )
    selection = {
        "action": "bulk_hold_funds",
        "_selected_action": [returned.pk, pending.pk, mailed.pk],
    }
    page = clerk.post(REFUNDS, selection)
    assert page.status_code == 200 and b'name="reason"' in page.content
    done = clerk.post(REFUNDS, {**selection, "apply": "1", "reason": "No deliverable address"})
    assert set(HeldFunds.objects.values_list("refund", flat=True)) == {returned.pk, pending.pk}
    mailed.refresh_from_db()
    assert mailed.status == S.MAILED
    messages = said(done)
    assert "Only a pending or returned refund check can be held" in messages[0]
    assert messages[1] == "Hold the funds: 2 of 3 done."


@pytest.mark.parametrize("role", [SUPPORT, AUDITOR])
def test_support_and_auditors_cannot_hold_funds(signed_in, role):
    client = signed_in(role)
    refund = RefundFactory(returned=True)
    page = client.get(reverse("admin:refunds_refund_change", args=[refund.pk]))
    assert b"Hold the funds" not in page.content
    assert client.post(refund_button(refund), {"apply": "1", "reason": "x"}).status_code == 403
    client.post(
        REFUNDS,
        {"action": "bulk_hold_funds", "_selected_action": [refund.pk], "apply": "1", "reason": "x"},
    )
    refund.refresh_from_db()
    assert refund.status == S.RETURNED and not HeldFunds.objects.exists()


# --- the list stays fast ---


@pytest.mark.parametrize("rows", [10, 200])
@pytest.mark.parametrize("role", [REFUND_OPERATIONS, AUDITOR])
def test_the_list_runs_in_a_bounded_number_of_queries(
    signed_in, django_assert_max_num_queries, rows, role
):
    held_funds_in_bulk(rows)
    client = signed_in(role)
    with django_assert_max_num_queries(8):
        page = client.get(CHANGELIST, {"status__exact": "held"})
    assert len(page.context["cl"].result_list) == min(rows, LIST_PER_PAGE)
