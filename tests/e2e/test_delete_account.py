"""Delete Account in a real browser on a phone-sized screen (SPEC §1, D1-D6, E1)."""

import re

import pytest
from playwright.sync_api import expect

from accounts.demo import DEMO_PASSWORD
from refunds.models import Closure, Refund

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
