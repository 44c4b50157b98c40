"""The way to Delete Account on a phone and by keyboard alone (rule S1)."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_holder_reaches_security_by_the_faq_path_on_a_phone(
    demo, page, live_server, sign_in, no_serious_axe_violations
):
    sign_in("card@demo.test")
    expect(page.get_by_role("heading", name="My Account")).to_be_visible()
    no_serious_axe_violations("My Account")

    # "click the top right menu, select 'My Settings'"
    menu = page.get_by_role("button", name="Menu")
    box = menu.bounding_box()
    assert box["x"] + box["width"] > 360 * 0.7 and box["y"] < 100  # top right
    menu.click()
    page.get_by_role("link", name="My Settings").click()

    # "On the bottom navigation bar click 'Security'"
    bar = page.get_by_role("navigation", name="My Settings")
    bar_box = bar.bounding_box()
    assert bar_box["y"] + bar_box["height"] >= 740 - 2  # pinned to the bottom
    expect(bar.get_by_role("link")).to_have_text(["Profile", "Address", "Security"])
    bar.get_by_role("link", name="Security").click()
    expect(page.get_by_role("heading", name="Security")).to_be_visible()
    no_serious_axe_violations("Security")


def test_keyboard_alone_reaches_my_settings(demo, page, live_server, sign_in):
    sign_in("card@demo.test")
    page.get_by_role("button", name="Menu").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("ArrowDown")
    my_settings = page.get_by_role("link", name="My Settings")
    for _ in range(3):
        if my_settings.evaluate("el => el === document.activeElement"):
            break
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Profile")).to_be_visible()
