"""My Settings → Profile: name, email, language, and the account's phone numbers."""

import re

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from portal.audit import audit_event_open
from portal.models import AuditEvent
from tests.factories import CustomerAccountFactory, PhoneNumberFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("accounts:settings_profile")


def test_profile_shows_email_link_language_and_phone_numbers(client):
    account = CustomerAccountFactory(phone="5125550100")
    PhoneNumberFactory(account=account, number="5125550188", label="Mom")
    client.force_login(account.holder)
    html = client.get(URL).content.decode()
    assert account.holder.email in html
    assert reverse("account_email") in html
    assert 'name="language"' in html
    assert "(512) 555-0100" in html and "(512) 555-0188" in html and "Mom" in html


@override_settings(LANGUAGES=[("en", "English"), ("es", "Español")])
def test_the_language_is_stored_on_the_user_and_used_from_then_on(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(URL, {"first_name": "Ana", "last_name": "Ruiz", "language": "es"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.first_name, user.last_name, user.language) == ("Ana", "Ruiz", "es")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"


def test_only_a_language_the_portal_offers_is_accepted(client):
    user = UserFactory(language="es")
    client.force_login(user)
    response = client.post(URL, {"first_name": "Ana", "last_name": "Ruiz", "language": "xx"})
    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    user.refresh_from_db()
    assert user.language == "es"


@pytest.mark.parametrize("typed", ["(512) 555-0142", "1-512-555-0142", "512.555.0142"])
def test_a_phone_number_is_added_as_ten_digits_and_audited(client, typed):
    account = CustomerAccountFactory()
    client.force_login(account.holder)
    response = client.post(reverse("accounts:phone_add"), {"number": typed, "label": "Work"})
    assert response.status_code == 302
    assert account.phone_numbers.filter(number="5125550142", label="Work").exists()
    event = AuditEvent.objects.get(action="phone.added")
    assert "5125550142" not in str(event.after)  # rule B7: sealed with the holder's key
    assert audit_event_open(event)["after"] == {
        "number": "5125550142",
        "label": "Work",
    }


@pytest.mark.parametrize(
    "typed, message",
    [
        ("555-0142", "Enter a 10-digit US phone number"),
        ("5125550100", "This number is already on your account."),
    ],
)
def test_a_bad_or_repeated_phone_number_is_refused(client, typed, message):
    account = CustomerAccountFactory(phone="5125550100")
    client.force_login(account.holder)
    response = client.post(reverse("accounts:phone_add"), {"number": typed, "label": ""})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert 'aria-current="page" href="/settings/profile/"' in response.content.decode()
    assert account.phone_numbers.count() == 1


def test_the_last_phone_number_has_no_remove_button(client):
    account = CustomerAccountFactory()
    client.force_login(account.holder)
    html = client.get(URL).content.decode()
    phone_list = html.split('id="phone-numbers"')[1].split("</ul>")[0]
    assert "(512) 555-0100" in phone_list and "Remove" not in phone_list


def test_a_user_without_an_account_has_a_profile_but_no_phone_numbers(client):
    client.force_login(UserFactory())
    html = client.get(URL).content.decode()
    assert 'name="first_name"' in html
    assert "Phone numbers" not in html
    assert client.post(reverse("accounts:phone_add"), {"number": "5125550100"}).status_code == 404


def test_holder_pages_have_no_inline_script_or_style(client):
    account = CustomerAccountFactory()
    client.force_login(account.holder)
    pages = [
        client.get(reverse("accounts:my_account")),
        client.get(URL),
        client.get(reverse("accounts:settings_address")),
        client.post(  # the "We suggest / What you typed" step
            reverse("accounts:settings_address"),
            {"line1": "1 Main Street", "city": "Austin", "state": "TX", "zip_code": "78701"},
        ),
    ]
    assert "We suggest" in pages[-1].content.decode()
    for response in pages:
        html = response.content.decode()
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
        assert " style=" not in html and "<style" not in html
        assert "script-src 'self'" in response["Content-Security-Policy"]
