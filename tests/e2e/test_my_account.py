"""My Account for each demo holder, in a real browser on a phone-sized screen."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import CustomerAccount
from accounts.services import Activity
from portal.business_calendar import business_date

pytestmark = pytest.mark.e2e

SERVICES = [
    "AdvanceConnect prepaid calling",
    "Direct Bill",
    "Securus Debit",
    "eMessaging",
    "VideoConnect",
]

# holder → the services My Account shows, and the text each element must show
EXPECTED = {
    "card@demo.test": (
        ["AdvanceConnect prepaid calling"],
        {
            "#account-number": "3000000001",
            "#advance-connect-balance": "$42.50",
            "#advance-connect-pending": "$4.20",
            "#advance-connect-available": "$38.30",
            "#last-deposit": "(Visa ending in 4242)",
            "#top-ups": "TextPay: On",
        },
    ),
    "check@demo.test": (
        ["AdvanceConnect prepaid calling"],
        {"#advance-connect-balance": "$51.30", "#last-deposit": "$40.00 on"},
    ),
    "directbill@demo.test": (
        ["Direct Bill"],
        {
            "#direct-bill-unbilled": "$11.55",
            "#direct-bill-outstanding": "$11.55",
            "#last-statement": "$29.40",
        },
    ),
    "video@demo.test": (
        ["AdvanceConnect prepaid calling", "Securus Debit", "eMessaging", "VideoConnect"],
        {
            "#advance-connect-balance": "$19.50",
            "#last-deposit": "By mail",
            "#stamps": "12 stamps left",
            "#video-sessions": "With Luis Reyes",
        },
    ),
    "nm@demo.test": (
        ["AdvanceConnect prepaid calling"],
        {"#advance-connect-balance": "$17.60", "#last-deposit": "(Mastercard ending in 5100)"},
    ),
}


@pytest.mark.parametrize("email", EXPECTED)
def test_each_demo_holder_sees_their_services_and_amounts(
    demo, page, live_server, sign_in, no_serious_axe_violations, email
):
    services, texts = EXPECTED[email]
    sign_in(email)
    expect(page.get_by_role("heading", name="My Account")).to_be_visible()

    shown = [
        name for name in SERVICES if page.get_by_role("heading", name=name, exact=True).count()
    ]
    assert shown == services
    for selector, value in texts.items():
        expect(page.locator(selector)).to_contain_text(value)
    if "#advance-connect-pending" not in texts:
        expect(page.locator("#advance-connect-pending")).to_have_count(0)
    no_serious_axe_violations(f"My Account of {email}")


def test_video_sessions_are_shown_in_the_holders_time_zone(demo, page, live_server, sign_in):
    sign_in("video@demo.test")
    sessions = page.locator("#video-sessions li")
    expect(sessions).to_have_count(2)
    expect(sessions.first).to_contain_text("3 p.m. MST")  # America/Phoenix, no DST
    expect(page.get_by_text("This money belongs to Luis Reyes")).to_be_visible()


def test_holder_changes_the_address_and_picks_the_suggestion(
    demo, page, live_server, sign_in, no_serious_axe_violations
):
    sign_in("check@demo.test")
    page.get_by_role("button", name="Menu").click()
    page.get_by_role("link", name="My Settings").click()
    page.get_by_role("navigation", name="My Settings").get_by_role("link", name="Address").click()
    expect(page.locator("#current-address")).to_contain_text("APT 4B")
    no_serious_axe_violations("Address")

    page.get_by_label("Street address").fill("500 Peachtree Street Northeast")
    page.get_by_label("Apartment, suite or unit").fill("Apartment 12")
    page.get_by_role("button", name="Save address").click()
    expect(page.get_by_role("heading", name="We suggest")).to_be_visible()
    no_serious_axe_violations("Address suggestion")
    page.get_by_role("button", name="Use the suggested address").click()

    expect(page.get_by_text("Your address was saved.")).to_be_visible()
    expect(page.locator("#current-address")).to_contain_text("500 PEACHTREE ST NE")
    expect(page.locator("#current-address")).to_contain_text("APT 12")
    expect(page.locator("#address-history")).to_contain_text("APT 4B")


def test_new_mexico_holder_sees_the_closing_date_and_keeps_the_account_open(
    demo, page, live_server, sign_in, no_serious_axe_violations
):
    """Rule N3: the date, the balance's fate and the Keep-open button, on a phone."""
    sign_in("nm@demo.test")
    # Signing in is activity (N2), so the 180 days start again today.
    closes_on = business_date(timezone.now()) + dt.timedelta(days=180)
    panel = page.locator("#inactivity")
    date = f"{closes_on:%B} {closes_on.day}, {closes_on.year}"
    expect(panel).to_contain_text(f"will be closed on {date}")
    expect(panel).to_contain_text("$17.60 today, would then be refunded to your Mastercard")
    expect(panel).to_contain_text("ending in 5100")
    no_serious_axe_violations("My Account, New Mexico")

    panel.get_by_role("button", name="Keep my account open").click()
    expect(page.get_by_text("Your account stays open.")).to_be_visible()
    account = CustomerAccount.objects.get(holder__email="nm@demo.test")
    assert account.last_activity_kind == Activity.KEEP_OPEN
    no_serious_axe_violations("My Account, kept open")


def test_holders_elsewhere_see_nothing_of_the_new_mexico_rule(demo, page, live_server, sign_in):
    sign_in("card@demo.test")
    expect(page.get_by_role("heading", name="My Account")).to_be_visible()
    expect(page.locator("#inactivity")).to_have_count(0)
