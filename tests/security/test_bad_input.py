"""The bad-input corpus (tests/data/bad_input.py) over every holder form, the public
pages, the admin lists (search, each filter, sort, page) and the export form (issue 9):
no 500, nothing typed reflected raw or run as a template, and, where the input was
refused, not one row written anywhere.

Each value goes into one field at a time, the other fields holding valid values, so a
field's own check is what answers. Every problem found is collected and listed at
once."""

import datetime as dt
from dataclasses import dataclass
from urllib.parse import quote_from_bytes, quote_plus

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from django.forms import BaseForm
from django.test.utils import ContextList
from django.urls import reverse
from django.utils import timezone

from portal.business_calendar import business_date
from refunds.roles import AUDITOR, REFUND_OPERATIONS, SUPPORT
from tests.data.bad_input import CORPUS, LIST_PARAMS, RAW_REFLECTIONS, TEXT, WORST
from tests.factories import (
    AdvanceConnectFactory,
    LedgerEntryFactory,
    SecurusDebitFactory,
    VideoSessionFactory,
)
from tests.factories.accounts import PASSWORD, UserFactory
from tests.factories.refunds import (
    FinalStatementFactory,
    HeldFundsFactory,
    HolderNoticeFactory,
    RefundFactory,
)

pytestmark = pytest.mark.django_db

FORM_BODY = "application/x-www-form-urlencoded"
TODAY = business_date(timezone.now())
# A typed address the Postal Service style rewrites, so the "We suggest / What you
# typed" page (which shows back everything typed) is what answers.
ADDRESS = {
    "line1": "1200 east 6th street",
    "line2": "",
    "city": "austin",
    "state": "TX",
    "zip_code": "78702",
}


@dataclass
class Form:
    name: str
    url: str
    valid: dict  # a valid value for every field
    method: str = "post"


def _encode(data: dict) -> str:
    return "&".join(
        f"{quote_plus(key)}="
        + (quote_from_bytes(value) if isinstance(value, bytes) else quote_plus(value))
        for key, value in data.items()
    )


def _row_counts() -> tuple:
    """The number of rows of every table, in one query. Sessions are left out: an
    anonymous visitor's first page may open one, which writes nothing of theirs."""
    tables = sorted(
        model._meta.db_table
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy and model is not Session
    )
    quoted = [connection.ops.quote_name(table) for table in tables]
    counts = [f"(SELECT COUNT(*) FROM {table})" for table in quoted]  # noqa: S608 - model tables
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(counts))
        return cursor.fetchone()


def _problems_in_page(response, label) -> list[str]:
    if response.has_header("Content-Disposition"):
        return []
    body = response.content.decode("utf-8", "replace")
    lower = body.lower()
    found = [f"{label}: reflected raw: {raw}" for raw in RAW_REFLECTIONS if raw in lower]
    if f"TPL{settings.SUPPORT_PHONE}" in body:
        found.append(f"{label}: typed text was run as a template")
    return found


def _refused(response) -> bool:
    """The answer says no: a 4xx page, or a form shown back with its errors."""
    if 400 <= response.status_code < 500:
        return True
    contexts = response.context if isinstance(response.context, ContextList) else []
    return any(
        isinstance(value, BaseForm) and value.is_bound and value.errors
        for context in contexts
        for layer in context.dicts
        for value in layer.values()
    )


def _send(client, method, url, data, label) -> list[str]:
    """One request with the corpus value in; what is wrong with the answer."""
    cache.clear()  # rate limits would answer instead of the form
    before = _row_counts()
    body = _encode(data)
    try:
        if method == "get":
            response = client.get(f"{url}?{body}")
        else:
            response = client.post(url, body, content_type=FORM_BODY)
    except Exception as exc:  # the test client re-raises what would be a 500
        return [f"{label}: 500 ({type(exc).__name__}: {str(exc)[:120]})"]
    found = []
    if response.status_code >= 500:
        found.append(f"{label}: {response.status_code}")
    found += _problems_in_page(response, label)
    if _refused(response) and _row_counts() != before:
        found.append(f"{label}: refused ({response.status_code}) but rows were written")
    if method == "post" and response.status_code == 302 and response.url.startswith("/"):
        found += _problems_in_page(client.get(response.url), f"{label} (next page)")
    return found


def sweep(client, forms, values=CORPUS) -> list[str]:
    """Each value into each field of each form, alone."""
    problems = []
    for form in forms:
        for field in form.valid:
            for value_name, value in values.items():
                data = {**form.valid, field: value}
                label = f"{form.name} {field}={value_name}"
                problems += _send(client, form.method, form.url, data, label)
    return problems


def _page_params(url):
    """A page with `next` (read by the sign-in pages) in its query string."""
    return Form(f"GET {url}", url, {"next": "/"}, "get")


@pytest.fixture
def holder(client):
    """A signed-in holder whose account opens every Delete Account step (D1-D5)."""
    ac = AdvanceConnectFactory()
    LedgerEntryFactory(advance_connect=ac, amount_cents=5000)
    VideoSessionFactory(account=ac.account)
    SecurusDebitFactory(account=ac.account)
    client.force_login(ac.account.holder)
    return ac.account


def test_my_settings_forms(client, holder):
    forms = [
        Form(
            "profile",
            reverse("accounts:settings_profile"),
            {"first_name": "Maria", "last_name": "Lopez", "language": "en"},
        ),
        Form(
            "phone",
            reverse("accounts:phone_add"),
            {"number": "512-555-0199", "label": "Mum"},
        ),
        Form("address", reverse("accounts:settings_address"), ADDRESS),
    ]
    choice = Form(
        "address choice",
        reverse("accounts:settings_address"),
        {**{f"suggested-{k}": v for k, v in ADDRESS.items()}, "choice": "suggested", **ADDRESS},
    )
    pages = ["accounts:my_account", "accounts:settings_profile", "accounts:settings_security"]
    pages = [_page_params(reverse(name)) for name in pages]
    problems = sweep(client, forms) + sweep(client, [choice, *pages], WORST)
    assert not problems, "\n".join(problems)


def test_delete_account_steps(client, holder):
    """D1-D5, walked to the step each form is on."""

    def step(name):
        return reverse(f"delete_account:{name}")

    client.post(step("review"))
    problems = sweep(client, [Form("D2 address", step("address"), {**ADDRESS, "action": "check"})])
    client.post(step("address"), {"action": "confirm"})
    problems += sweep(client, [Form("D3 video", step("video"), {"acknowledge": "yes"})])
    client.post(step("video"), {"acknowledge": "yes"})
    reauthenticate = reverse("account_reauthenticate")
    problems += sweep(client, [Form("reauthenticate", reauthenticate, {"password": PASSWORD})])
    names = ["start", "review", "address", "video", "not_refundable", "confirm", "records_csv"]
    problems += sweep(client, [_page_params(step(name)) for name in names], WORST)
    holder.refresh_from_db()  # still there: nothing was deleted
    assert holder.is_open
    assert not problems, "\n".join(problems)


def test_sign_in_sign_up_and_password_reset(client, db):
    forms = [
        Form(
            "sign in",
            reverse("account_login"),
            {"login": "nobody@example.test", "password": "wrong-password-1"},
        ),
        Form(
            "sign up",
            reverse("account_signup"),
            {"email": "new@example.test", "password1": PASSWORD, "password2": PASSWORD},
        ),
        Form("password reset", reverse("account_reset_password"), {"email": "a@example.test"}),
        _page_params(reverse("account_login")),
    ]
    problems = sweep(client, forms)
    assert not problems, "\n".join(problems)


def test_refund_status_and_claim(client, returned_check):
    """B2 and B3, signed out: the lookup, then the new-address claim it opens."""
    lookup = {"reference": returned_check.closure.reference, "zip_code": "78702"}
    lookup["last_name"] = "Okafor"
    status = Form("refund status", reverse("refund_status"), lookup)
    problems = sweep(client, [status, _page_params(status.url)])
    client.post(status.url, lookup)
    claim = Form("claim", reverse("refund_claim"), {**ADDRESS, "action": "check"})
    problems += sweep(client, [claim])
    assert not problems, "\n".join(problems)


def test_export_form(signed_in):
    """§5: each field of the export form; a date past the year 9999 was a 500."""
    auditor = signed_in(AUDITOR)
    form = Form(
        "export",
        reverse("admin:refunds_exportrun_export"),
        {
            "export": "refunds",
            "file_format": "csv",
            "date_from": (TODAY - dt.timedelta(days=7)).isoformat(),
            "date_to": TODAY.isoformat(),
        },
    )
    problems = sweep(auditor, [form])
    assert not problems, "\n".join(problems)


def test_an_export_to_the_end_of_time_is_refused_in_plain_words(signed_in):
    response = signed_in(AUDITOR).post(
        reverse("admin:refunds_exportrun_export"),
        {"export": "refunds", "file_format": "csv", "date_from": "2024-01-01"}
        | {"date_to": "9999-12-31"},
    )
    assert response.status_code == 200
    assert "Pick dates from 1 January 2000 to 31 December 2099." in response.content.decode()


@pytest.fixture
def back_office_rows(returned_check):
    """A row in every back-office list, so searches and filters run real queries."""
    RefundFactory(card=True)
    FinalStatementFactory()
    HeldFundsFactory(remitted=True)
    HolderNoticeFactory()


CHANGELISTS = sorted(
    (model._meta.app_label, model._meta.model_name) for model in admin.site._registry
)


def _filter_params(client, url) -> list[str]:
    """The query parameters of the list's filters, as Django admin reads them."""
    response = client.get(url)
    if response.status_code != 200:
        return []
    return [
        param
        for spec in response.context["cl"].filter_specs
        for param in spec.expected_parameters()
    ]


@pytest.mark.parametrize(("app_label", "model_name"), CHANGELISTS)
def test_admin_list_search_filters_sort_and_page(
    signed_in, back_office_rows, app_label, model_name
):
    """Every back-office list as an auditor (who reads everything of the portal's own;
    a superuser for the sign-in and group lists): ?q=, each filter parameter, and the
    sort key and page number."""
    client = signed_in(AUDITOR)
    url = reverse(f"admin:{app_label}_{model_name}_changelist")
    if client.get(url).status_code == 403:
        client = signed_in(is_superuser=True)
    assert client.get(url).status_code == 200
    problems = sweep(client, [Form(f"{model_name} ?q", url, {"q": ""}, "get")])
    forms = [
        Form(f"{model_name} ?{param}", url, {param: ""}, "get")
        for param in _filter_params(client, url)
    ]
    problems += sweep(client, forms, WORST)
    problems += sweep(
        client, [Form(f"{model_name} list", url, {"o": "1", "p": "1"}, "get")], LIST_PARAMS
    )
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("role", [SUPPORT, REFUND_OPERATIONS])
def test_admin_search_for_each_role(signed_in, back_office_rows, role):
    """The lists the holder's file is found through, searched by Support and Refund
    operations with the worst of the text."""
    client = signed_in(role)
    forms = [
        Form(f"{role} {name} ?q", reverse(f"admin:{name}_changelist"), {"q": ""}, "get")
        for name in ("accounts_customeraccount", "refunds_refund", "refunds_closure")
    ]
    values = {k: TEXT[k] for k in ("xss", "template_var", "template_tag", "nul", "long")}
    problems = sweep(client, forms, values)
    assert not problems, "\n".join(problems)


def test_an_address_that_cannot_be_printed_on_an_envelope_is_refused(client, holder):
    """Markup, template syntax and emoji are refused in plain words; nothing saved."""
    url = reverse("accounts:settings_address")
    before = _row_counts()
    response = client.post(url, {**ADDRESS, "line2": '"><img src=x>', "city": "{{ x }}"})
    html = response.content.decode()
    assert html.count("Use only letters, numbers, spaces and . , # / - &#x27; &amp; ( )") == 2
    assert _row_counts() == before


def test_the_address_choice_page_escapes_what_was_typed(client, holder):
    """What was typed goes back in the hidden inputs escaped, never marked safe."""
    url = reverse("accounts:settings_address")
    response = client.post(url, {**ADDRESS, "line2": "Apt 4 & 5", "city": "O'Fallon"})
    html = response.content.decode()
    assert "We suggest" in html
    assert '<input type="hidden" name="line2" value="Apt 4 &amp; 5"' in html
    assert '<input type="hidden" name="city" value="O&#x27;Fallon"' in html


def test_staff_money_forms(signed_in, back_office_rows):
    """The forms Refund operations type amounts, dates, check numbers and reasons into,
    and a bulk action's selection (SPEC §3, §4)."""
    client = signed_in(REFUND_OPERATIONS)
    statement = FinalStatementFactory()
    refund = RefundFactory()

    def tool(model, pk, name):
        return reverse(f"admin:{model}_actions", kwargs={"pk": pk, "tool": name})

    forms = [
        Form(
            "record payment",
            tool("accounts_directbillstatement", statement.pk, "record_payment"),
            {"apply": "1", "amount": "5.00", "paid_at": f"{TODAY.isoformat()}T10:00"},
        ),
        Form(
            "write off",
            tool("accounts_directbillstatement", statement.pk, "write_off"),
            {"apply": "1", "reason": "Holder passed away"},
        ),
        Form(
            "mark issued",
            tool("refunds_refund", refund.pk, "mark_issued"),
            {"apply": "1", "check_number": "204511", "issued_on": TODAY.isoformat()},
        ),
        Form(
            "bulk mark mailed",
            reverse("admin:refunds_refund_changelist"),
            {
                "action": "bulk_mark_mailed",
                "_selected_action": str(refund.pk),
                "apply": "1",
                "mailed_on": TODAY.isoformat(),
            },
        ),
    ]
    problems = sweep(client, forms)
    assert not problems, "\n".join(problems)


def test_a_tampered_bulk_selection_is_refused_in_plain_words(signed_in):
    refund = RefundFactory(issued=True)
    url = reverse("admin:refunds_refund_changelist")
    response = signed_in(REFUND_OPERATIONS).post(
        url,
        {"action": "bulk_mark_mailed", "_selected_action": [str(refund.pk), "1 OR 1=1"]}
        | {"apply": "1", "mailed_on": TODAY.isoformat()},
        follow=True,
    )
    assert "The selected rows could not be read. Select them again." in response.content.decode()
    refund.refresh_from_db()
    assert refund.mailed_on is None


def test_a_tampered_selection_in_the_user_admin_is_refused_too(signed_in):
    """Django's own user admin (superusers only) reads the selection the same way."""
    holder = UserFactory()
    response = signed_in(is_superuser=True).post(
        reverse("admin:accounts_user_changelist"),
        {"action": "delete_selected", "_selected_action": [str(holder.pk), "1 OR 1=1"]},
        follow=True,
    )
    assert response.status_code == 200
    assert "The selected rows could not be read. Select them again." in response.content.decode()
    holder.refresh_from_db()  # still there: nothing was deleted
