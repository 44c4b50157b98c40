"""Rule B5: the holder picks English or Spanish on any page, before or after signing in;
the choice is stored on the holder, applied at every sign-in on any device, and used
for every email; the back office stays in English."""

import datetime as dt

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User
from refunds.services.inactivity import inactivity_notice_email, inactivity_notices_send
from tests.factories import PASSWORD, CustomerAccountFactory, UserFactory

pytestmark = pytest.mark.django_db

SWITCH = reverse("accounts:language_switch")
LOGIN = reverse("account_login")
MY_ACCOUNT = reverse("accounts:my_account")


def sign_in(client, user):
    return client.post(LOGIN, {"login": user.email, "password": PASSWORD})


def test_every_page_offers_the_other_language_before_sign_in(client):
    html = client.get(LOGIN).content.decode()
    assert f'action="{SWITCH}"' in html and 'value="es"' in html and ">Español<" in html
    spanish = client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert '<html lang="es">' in spanish and ">English<" in spanish


def test_spanish_picked_on_the_sign_in_page_is_stored_at_sign_in(client):
    account = CustomerAccountFactory()
    response = client.post(SWITCH, {"language": "es", "next": LOGIN})
    assert response.status_code == 302 and response.url == LOGIN
    assert client.get(LOGIN).content.decode().count("Iniciar sesión") >= 1

    response = sign_in(client, account.holder)
    assert response.status_code == 302
    account.holder.refresh_from_db()
    assert account.holder.language == "es"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    assert "Mi cuenta" in client.get(MY_ACCOUNT).content.decode()


def test_the_stored_language_follows_the_holder_to_a_new_device():
    account = CustomerAccountFactory(holder__language="es")
    browser = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    response = sign_in(browser, account.holder)
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    page = browser.get(MY_ACCOUNT).content.decode()
    assert '<html lang="es">' in page and "Número de cuenta" in page


def test_a_holder_who_never_picked_gets_the_browser_language_and_keeps_it():
    user = UserFactory(language="")
    browser = Client(HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9")
    sign_in(browser, user)
    user.refresh_from_db()
    assert user.language == "es"


def test_switching_when_signed_in_is_stored_on_the_holder(client):
    user = UserFactory(language="en")
    client.force_login(user)
    response = client.post(SWITCH, {"language": "es", "next": MY_ACCOUNT})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    assert User.objects.get(pk=user.pk).language == "es"


def test_a_language_the_portal_does_not_offer_changes_nothing(client):
    user = UserFactory(language="en")
    client.force_login(user)
    response = client.post(SWITCH, {"language": "fr", "next": MY_ACCOUNT})
    assert response.status_code == 302
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert User.objects.get(pk=user.pk).language == "en"


def test_the_switch_is_a_post_and_never_a_500(client):
    assert client.get(SWITCH).status_code == 405
    assert client.post(SWITCH, {}).status_code == 302


def test_the_back_office_stays_in_english_for_a_spanish_reader(client):
    from allauth.mfa.totp.internal.auth import TOTP

    staff = UserFactory(staff=True, is_superuser=True, language="es")
    TOTP.activate(staff, "JBSWY3DPEHPK3PXP")
    client.force_login(staff)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    page = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Site administration" in page and "Administración del sitio" not in page
    assert '<html lang="en"' in page
    assert "Mi cuenta" in client.get(MY_ACCOUNT).content.decode()


def test_a_daily_job_email_is_written_in_the_holder_language():
    now = dt.datetime(2026, 7, 30, 15, 0, tzinfo=dt.timezone.utc)
    account = CustomerAccountFactory(
        new_mexico=True, holder__language="es", last_activity_at=now - dt.timedelta(days=150)
    )
    (notice,) = inactivity_notices_send(now=now)
    inactivity_notice_email(notice_id=notice.pk, at=now)
    assert notice.account == account
    (email,) = mail.outbox
    assert "Su cuenta se cerrará el 29 de agosto de 2026 si no la usa" in email.subject
    assert "sábado, 29 de agosto de 2026" in email.body
    html = email.alternatives[0][0]
    assert '<html lang="es">' in html and "Nuevo México" in html


def test_the_public_refund_status_page_speaks_spanish(client):
    page = client.get(reverse("refund_status"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "¿Dónde está mi reembolso?" in page and "Referencia de cierre" in page
