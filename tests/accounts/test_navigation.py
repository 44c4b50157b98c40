"""The way to Delete Account (rule S1): the menu at the top right, My Settings, and the
bottom bar whose last item is Security."""

import re

import pytest
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def labels(html, start_marker):
    """The visible link and button texts after `start_marker`, in page order."""
    part = html.split(start_marker, 1)[1]
    return [t.strip() for t in re.findall(r"<(?:a|button)[^>]*>([^<]+)</(?:a|button)>", part)]


def test_top_right_menu_holds_my_settings_then_sign_out(client):
    client.force_login(UserFactory())
    html = client.get(reverse("accounts:my_account")).content.decode()
    menu = labels(html, 'id="account-menu"')
    assert menu[:4] == ["Menu", "My Account", "My Settings", "Sign out"]
    assert "dropdown-menu-end" in html  # the menu opens from the right edge


def test_bottom_bar_labels_and_order_on_every_settings_page(client):
    client.force_login(UserFactory())
    for name, active in [
        ("accounts:settings_profile", "Profile"),
        ("accounts:settings_address", "Address"),
        ("accounts:settings_security", "Security"),
        ("account_change_password", "Security"),
        ("mfa_index", "Security"),
    ]:
        html = client.get(reverse(name)).content.decode()
        bar = html.split('class="settings-nav fixed-bottom', 1)[1].split("</nav>")[0]
        assert re.findall(r">([A-Za-z]+)</a>", bar) == ["Profile", "Address", "Security"], name
        assert re.search(rf'aria-current="page"[^>]*>{active}</a>', bar), name


def test_my_settings_opens_on_profile(client):
    client.force_login(UserFactory())
    response = client.get(reverse("accounts:settings_home"))
    assert response.url == reverse("accounts:settings_profile")


def test_pages_need_sign_in(client):
    for name in ["accounts:my_account", "accounts:settings_profile", "accounts:settings_security"]:
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))


def test_no_inline_script_and_strict_csp(client):
    client.force_login(UserFactory())
    response = client.get(reverse("accounts:settings_security"))
    html = response.content.decode()
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    # Scripts and styles come from the portal itself, never a CDN (not a search for "cdn"
    # in the page: a random CSRF token once held those three letters).
    assets = re.findall(r'<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"', html)
    assert assets and all(url.startswith("/") and not url.startswith("//") for url in assets)
