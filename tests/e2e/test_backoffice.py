"""The back office in a real browser (SPEC §3, rules S5.roles, S5.exports): refund
operations take a check from printing to a reissue at a corrected address; the auditor
exports the check register."""

import csv

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import CustomerAccount, User
from portal.actors import SYSTEM
from portal.business_calendar import business_date
from refunds.models import Refund
from refunds.roles import assign_demo_roles
from refunds.services import closure_confirm
from tests.factories import AdvanceConnectFactory, CustomerAccountFactory, LedgerEntryFactory

pytestmark = pytest.mark.e2e


def check_holder_account():
    """check@demo.test, whose last deposit was by MoneyGram: refunded by check (E4)."""
    holder = User.objects.get(email="check@demo.test")
    account = CustomerAccount.objects.filter(holder=holder).first()
    if account is None:  # demo data without accounts: make the one the README describes
        account = CustomerAccountFactory(holder=holder)
        LedgerEntryFactory(
            advance_connect=AdvanceConnectFactory(account=account),
            by_moneygram=True,
            amount_cents=4000,
        )
    return account


def test_a_check_goes_from_printing_to_a_corrected_address_and_into_the_register(
    demo, page, live_server, staff_sign_in, tmp_path
):
    assign_demo_roles()
    closure = closure_confirm(account=check_holder_account(), actor=SYSTEM)
    check = closure.refunds.get()
    assert check.method == Refund.Method.CHECK
    today = business_date(timezone.now()).isoformat()

    # Refund operations find the check by the closure reference a holder would quote.
    staff_sign_in("refunds@demo.test")
    page.goto(f"{live_server.url}/admin/refunds/refund/")
    page.locator("#searchbar").fill(closure.reference)
    page.locator("#searchbar").press("Enter")
    page.get_by_role("link", name=str(check)).click()

    page.get_by_role("link", name="Mark issued").click()
    page.get_by_label("Check number").fill("700101")
    page.get_by_role("button", name="Mark issued").click()
    expect(page.locator(".messagelist")).to_contain_text("check 700101")
    expect(page.locator(".messagelist")).to_contain_text("is now issued")

    page.get_by_role("link", name="Mark mailed").click()
    page.get_by_role("button", name="Mark mailed").click()
    expect(page.locator(".messagelist")).to_contain_text("is now mailed")

    page.get_by_role("link", name="Returned undeliverable").click()
    page.get_by_label("Reason").fill("Moved, left no forwarding address")
    page.get_by_role("button", name="Returned undeliverable").click()
    expect(page.locator(".messagelist")).to_contain_text("is now returned undeliverable")

    page.get_by_role("link", name="Reissue to a corrected address").click()
    page.get_by_label("Address line 1").fill("455 Peachtree St NE")
    page.get_by_label("City").fill("Atlanta")
    page.get_by_label("State").select_option("GA")
    page.get_by_label("ZIP code").fill("30308")
    page.get_by_role("button", name="Reissue to a corrected address").click()
    expect(page.locator(".messagelist")).to_contain_text("A new refund check")

    check.refresh_from_db()
    new_check = Refund.objects.get(replaces=check)
    assert (check.status, check.check_number) == (Refund.Status.REISSUED, "700101")
    assert new_check.amount_cents == check.amount_cents
    assert new_check.address_lines() == ["455 PEACHTREE ST NE", "ATLANTA GA 30308"]

    # The auditor exports the check register for today.
    staff_sign_in("auditor@demo.test")
    page.get_by_role("link", name="Export records").click()
    page.get_by_label("Export").select_option(label="Check register")
    page.get_by_label("CSV").check()
    page.get_by_label("From").fill(today)
    page.get_by_label("To (inclusive)").fill(today)
    with page.expect_download() as download:
        page.get_by_role("button", name="Export").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    with open(saved, encoding="utf-8-sig", newline="") as exported:
        rows = list(csv.DictReader(exported))
    assert [
        (row["Check number"], row["Payee"], row["Status"], row["Closure reference"]) for row in rows
    ] == [("700101", "Charles Okafor", "reissued", closure.reference)]
    assert rows[0]["Reason for the last change"] == "Reissued to a corrected address"
