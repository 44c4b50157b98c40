"""My Settings → Profile: name, email, language, and the account's phone numbers."""

import re

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from accounts.forms import PhoneNumberForm
from accounts.models import PhoneNumber
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


@pytest.mark.parametrize(
    "typed", ["(512) 555-0142", "1-512-555-0142", "512.555.0142", "+1 512 555 0142"]
)
def test_a_phone_number_is_stored_as_e164_and_audited(client, typed):
    account = CustomerAccountFactory()
    client.force_login(account.holder)
    response = client.post(reverse("accounts:phone_add"), {"number": typed, "label": "Work"})
    assert response.status_code == 302
    stored = PhoneNumber.objects.filter(account=account, label="Work").values_list(
        "number", flat=True
    )
    assert list(stored) == ["+15125550142"]
    event = AuditEvent.objects.get(action="phone.added")
    assert "5125550142" not in str(event.after)  # rule B7: sealed with the holder's key
    assert audit_event_open(event)["after"] == {
        "number": "+15125550142",
        "label": "Work",
    }
    html = client.get(URL).content.decode()
    assert "(512) 555-0142" in html and "+15125550142" not in html


NOT_A_US_NUMBER = "This is not a US phone number that can be called."


@pytest.mark.parametrize(
    "typed, message",
    [
        ("000-000-0000", NOT_A_US_NUMBER),
        ("555-0142", NOT_A_US_NUMBER),
        ("123-456-7890", NOT_A_US_NUMBER),
        ("(512) 555-01", NOT_A_US_NUMBER),
        ("call me", NOT_A_US_NUMBER),
        ("+44 20 7946 0958", NOT_A_US_NUMBER),
        ("5125550100", "This number is already on your account."),
        ("+1 (512) 555-0100", "This number is already on your account."),
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
    assert not AuditEvent.objects.filter(action="phone.added").exists()


def test_the_phone_form_shows_a_stored_number_in_national_format():
    account = CustomerAccountFactory()
    form = PhoneNumberForm(initial={"number": "+15055550105"}, account=account, action="/")
    assert 'value="(505) 555-0105"' in str(form["number"])
    assert 'type="tel"' in str(form["number"])


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
