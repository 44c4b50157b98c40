"""Delete Account in a real browser on a phone-sized screen (SPEC §1, D1-D6, E1)."""

import re

import pytest
from playwright.sync_api import expect

from accounts.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from refunds.models import Closure, Refund
from tests.helpers import totp_code

pytestmark = pytest.mark.e2e


def open_delete_account(page):
    """The FAQ's path: top-right menu → My Settings → bottom bar Security → Delete Account."""
    page.get_by_role("button", name="Menu").click()
    page.get_by_role("link", name="My Settings").click()
    page.get_by_role("navigation", name="My Settings").get_by_role("link", name="Security").click()
    page.get_by_role("link", name="Delete Account").click()


def test_card_holder_closes_the_account_and_sees_the_refund(
    demo, page, live_server, sign_in, no_serious_axe_violations
):
    sign_in("card@demo.test")
    open_delete_account(page)

    # D1 Review: $42.50 less the $4.20 of calls not yet deducted = $38.30 to the card.
    expect(page.get_by_role("heading", name="What will happen to each service")).to_be_visible()
    expect(page.locator("#refund-amount")).to_have_text("$38.30")
    expect(page.locator("#refund-method")).to_contain_text("Visa card ending 4242")
    due_text = page.locator("#refund-method strong").inner_text()
    assert re.fullmatch(r"\w+day, \w+ \d{1,2}, \d{4}", due_text)
    expect(page.get_by_text("TextPay and AutoPay")).to_be_visible()
    no_serious_axe_violations("D1 review")
    page.get_by_role("button", name="Continue").click()

    # D2 Verify address
    expect(page.get_by_role("heading", name="Verify your address")).to_be_visible()
    no_serious_axe_violations("D2 address")
    page.get_by_role("button", name="This address is correct").click()

    # D5 Confirm (no video or non-refundable steps for this holder)
    if page.get_by_label("Password").count():
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Confirm: delete your account")).to_be_visible()
    expect(page.get_by_text("$38.30")).to_be_visible()
    no_serious_axe_violations("D5 confirm")
    page.get_by_role("button", name="Delete my account").click()

    # D6 Done
    expect(page.get_by_role("heading", name="Your account is closed")).to_be_visible()
    reference = page.locator("#closure-reference").inner_text()
    closure = Closure.objects.get(reference=reference)
    refund = closure.refunds.get()
    assert (refund.method, refund.amount_cents) == (Refund.Method.CARD, 3830)
    expect(page.get_by_text(due_text).first).to_be_visible()
    no_serious_axe_violations("D6 done")

    # After closing, the portal keeps helping: no "Sign in", a link to the status page
    # with the reference filled in, and what to have ready.
    expect(page.get_by_role("link", name="Sign in")).to_have_count(0)
    status_link = page.locator("#status-page-help").get_by_role("link", name="refund status page")
    expect(status_link).to_have_attribute("href", f"/refund-status/?reference={reference}")
    expect(page.locator("#status-page-help")).to_contain_text("ZIP code")
    expect(page.locator("#status-page-help")).to_contain_text("last name")
    status_link.click()
    expect(page.get_by_label("Closure reference")).to_have_value(reference)
    no_serious_axe_violations("status page, reference filled in")

    # E1: signing in again is refused, with the support number.
    sign_in("card@demo.test")
    expect(page.get_by_role("heading", name="This account is closed")).to_be_visible()
    expect(page.get_by_text("1-800-844-6591").first).to_be_visible()


def test_video_holder_must_acknowledge_the_voided_sessions(
    demo, page, live_server, sign_in, no_serious_axe_violations
):
    sign_in("video@demo.test")
    open_delete_account(page)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="This address is correct").click()

    # D3 VideoConnect warning: sessions listed, acknowledgement required.
    expect(
        page.get_by_role("heading", name="Your VideoConnect sessions will be voided")
    ).to_be_visible()
    expect(page.locator("#video-sessions li")).to_have_count(2)
    no_serious_axe_violations("D3 video")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("Tick the box to say you understand")).to_be_visible()
    no_serious_axe_violations("D3 video with error")
    page.get_by_label("I understand that my sessions").check()
    page.get_by_role("button", name="Continue").click()

    # D4 Not refundable: Securus Debit and 12 stamps.
    expect(page.get_by_role("heading", name="Money that is not refunded to you")).to_be_visible()
    expect(page.get_by_text("eMessaging stamps: 12")).to_be_visible()
    no_serious_axe_violations("D4 not refundable")
    page.get_by_role("button", name="I understand, continue").click()

    if page.get_by_label("Password").count():
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Confirm").click()
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_role("heading", name="Your account is closed")).to_be_visible()
    closure = Closure.objects.get(reference=page.locator("#closure-reference").inner_text())
    assert closure.sessions_voided == 2
    assert closure.subscriptions_cancelled == 1
    assert closure.stamps_forfeited == 12


def test_direct_bill_holder_is_told_the_hold_and_the_final_statement(
    demo, page, live_server, sign_in, no_serious_axe_violations
):
    sign_in("directbill@demo.test")
    open_delete_account(page)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="This address is correct").click()
    page.get_by_role("button", name="Delete my account").click()

    expect(page.get_by_role("heading", name="Your account is closed")).to_be_visible()
    closure = Closure.objects.get(reference=page.locator("#closure-reference").inner_text())
    end = f"{closure.direct_bill_hold_until:%A, %B} {closure.direct_bill_hold_until.day}"
    hold = page.locator("#direct-bill-next")
    expect(hold).to_contain_text("we hold your account for 7 to 10 days")
    expect(hold).to_contain_text("Your final bill comes between")
    expect(hold).to_contain_text(end)
    expect(page.get_by_text("No AdvanceConnect balance")).to_have_count(0)
    no_serious_axe_violations("D6 done, Direct Bill")


def test_staff_signing_in_on_the_portal_page_land_in_the_back_office(
    demo, page, live_server, sign_in
):
    sign_in("admin@demo.test")
    page.locator('input[name="code"]').fill(totp_code(DEMO_TOTP_SECRET))
    page.locator('input[name="code"]').press("Enter")
    expect(page).to_have_url(f"{live_server.url}/admin/")
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    expect(page.locator("#business-zone")).to_contain_text("Central Time")
