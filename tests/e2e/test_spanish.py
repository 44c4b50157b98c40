"""Rule B5 in a real browser at 360 px: a holder picks Spanish on the sign-in page, and
every step of Delete Account, the amounts, the dates and the confirmation email follow;
a sign-in from another browser keeps Spanish."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts.demo import DEMO_PASSWORD
from accounts.models import User
from refunds.models import Closure, Refund

pytestmark = pytest.mark.e2e

SPANISH_DAY = r"\w+, \d{1,2} de \w+ de \d{4}"  # "miércoles, 2 de diciembre de 2026"


def sign_in_in_spanish(page, email):
    page.get_by_label("Correo electrónico").fill(email)
    page.get_by_label("Contraseña").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Iniciar sesión").click()


def test_a_holder_deletes_the_account_in_spanish(
    demo, page, browser, browser_context_args, live_server, no_serious_axe_violations
):
    page.goto(f"{live_server.url}/accounts/login/")
    no_serious_axe_violations("sign-in page in English")
    page.get_by_role("button", name="Español").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    no_serious_axe_violations("sign-in page in Spanish")
    sign_in_in_spanish(page, "card@demo.test")
    expect(page.get_by_role("heading", name="Mi cuenta")).to_be_visible()
    assert User.objects.get(email="card@demo.test").language == "es"

    # Another browser, asking for English, signs in and gets Spanish: the choice is stored.
    other = browser.new_context(**browser_context_args, locale="en-US")
    other_page = other.new_page()
    other_page.goto(f"{live_server.url}/accounts/login/")
    other_page.get_by_label("Email").fill("card@demo.test")
    other_page.get_by_label("Password").fill(DEMO_PASSWORD)
    other_page.get_by_role("button", name="Sign In").click()
    expect(other_page.get_by_role("heading", name="Mi cuenta")).to_be_visible()
    expect(other_page.locator("html")).to_have_attribute("lang", "es")
    other.close()

    # menu → My Settings → Security → Delete Account, by their Spanish labels
    page.get_by_role("button", name="Menú").click()
    page.get_by_role("link", name="Mi configuración").click()
    nav = page.get_by_role("navigation", name="Mi configuración")
    nav.get_by_role("link", name="Seguridad").click()
    no_serious_axe_violations("Security in Spanish")
    page.get_by_role("link", name="Eliminar cuenta").click()

    # D1: $42.50 less $4.20 of calls not yet deducted = $38.30, by a date in Spanish.
    expect(page.get_by_role("heading", name="Qué pasará con cada servicio")).to_be_visible()
    expect(page.locator("#refund-amount")).to_have_text("$38.30")
    expect(page.locator("#refund-method")).to_contain_text("Visa terminada en 4242")
    due_text = page.locator("#refund-method strong").inner_text()
    assert re.fullmatch(SPANISH_DAY, due_text), due_text
    no_serious_axe_violations("D1 review in Spanish")
    page.get_by_role("button", name="Continuar").click()

    expect(page.get_by_role("heading", name="Verifique su dirección")).to_be_visible()
    no_serious_axe_violations("D2 address in Spanish")
    page.get_by_role("button", name="Esta dirección es correcta").click()

    if page.get_by_label("Contraseña").count():
        page.get_by_label("Contraseña").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Confirmar").click()
    expect(page.get_by_role("heading", name="Confirme: eliminar su cuenta")).to_be_visible()
    expect(page.get_by_text("$38.30")).to_be_visible()
    no_serious_axe_violations("D5 confirm in Spanish")
    page.get_by_role("button", name="Eliminar mi cuenta").click()

    expect(page.get_by_role("heading", name="Su cuenta está cerrada")).to_be_visible()
    reference = page.locator("#closure-reference").inner_text()
    expect(page.get_by_text(due_text).first).to_be_visible()
    no_serious_axe_violations("D6 done in Spanish")
    refund = Closure.objects.get(reference=reference).refunds.get()
    assert (refund.method, refund.amount_cents) == (Refund.Method.CARD, 3830)

    (email,) = [m for m in mail.outbox if reference in m.subject]
    assert f"Su cuenta está cerrada: referencia {reference}" in email.subject
    assert "Reembolso de $38.30 a su tarjeta Visa terminada en 4242" in email.body
    assert f"a más tardar el {due_text}" in email.body
    html = email.alternatives[0][0]
    assert '<html lang="es">' in html and "<strong>$38.30</strong>" in html
