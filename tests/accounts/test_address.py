"""The address on record: validated, offered in USPS style, history kept (SPEC D2)."""

import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse

from accounts.addresses import (
    ScourgifyVerifier,
    USAddress,
    address_suggest,
    address_validate,
    get_address_verifier,
    suggest_usps_style,
)
from accounts.forms import AddressForm
from accounts.models import MailingAddress
from portal.audit import audit_event_open
from portal.models import AuditEvent
from tests.factories import CustomerAccountFactory, MailingAddressFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("accounts:settings_address")

TYPED = {
    "line1": "455 Peachtree Street Northeast",
    "line2": "Apartment 4b",
    "city": "Atlanta",
    "state": "GA",
    "zip_code": "30308",
}
USPS = {
    "line1": "455 PEACHTREE ST NE",
    "line2": "APT 4B",
    "city": "ATLANTA",
    "state": "GA",
    "zip_code": "30308",
}


class RaisingVerifier:
    def suggest(self, fields):
        raise AssertionError("a broken verifier must not be reached by a valid POST")


class FixedVerifier:
    """Always suggests the same address, to test the flow without scourgify."""

    def suggest(self, fields):
        return dict(USPS)


# --- the one validator (rules D2, B3, N5) ---


def test_the_validator_returns_the_address_in_usps_style():
    address = address_validate(
        line1=" 12  main st ", line2="apt  3", city="el paso", state="Texas", zip_code="79901"
    )
    assert address == USAddress(
        line1="12 MAIN ST", line2="APT 3", city="EL PASO", state="TX", zip_code="79901"
    )
    assert address.lines() == ["12 MAIN ST", "APT 3", "EL PASO TX 79901"]


def test_the_validator_says_what_is_wrong_with_each_field_in_plain_words():
    with pytest.raises(ValidationError) as refused:
        address_validate(line1="N/A", city=" ", state="FM", zip_code="7870")
    assert {
        name: " ".join(errors[0].messages) for name, errors in refused.value.error_dict.items()
    } == {
        "line1": "Enter the street address with its number, like 455 W 2ND ST, "
        "or a PO box, like PO BOX 12.",
        "city": "Enter the city.",
        "state": "Enter a U.S. state or territory.",
        "zip_code": "Enter a zip code in the format XXXXX or XXXXX-XXXX.",
    }


@pytest.mark.parametrize("line1", ["<b>12 Main St</b>", "12 Main St {{ x }}", "12 Main St \u200b"])
def test_a_line_that_cannot_go_on_an_envelope_is_refused(line1):
    with pytest.raises(ValidationError, match="Use only letters, numbers, spaces"):
        address_validate(line1=line1, city="Austin", state="TX", zip_code="78701")


def test_a_suggestion_is_validated_like_anything_typed():
    typed = address_validate(**TYPED)
    assert address_suggest(typed) == USAddress(**USPS)
    assert address_suggest(USAddress(**USPS)) is None
    with override_settings(ADDRESS_VERIFIER="tests.accounts.test_address.NonsenseVerifier"):
        assert address_suggest(typed) is None


class NonsenseVerifier:
    """Suggests something that is not an address."""

    def suggest(self, fields):
        return {**USPS, "line1": "N/A"}


# --- the form ---


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"state": "ZZ"}, "state", "Enter a U.S. state or territory."),
        ({"state": "FM"}, "state", "Enter a U.S. state or territory."),
        ({"zip_code": "3030"}, "zip_code", "XXXXX or XXXXX-XXXX"),
        ({"zip_code": "30308-12"}, "zip_code", "XXXXX or XXXXX-XXXX"),
        ({"zip_code": "ABCDE"}, "zip_code", "XXXXX or XXXXX-XXXX"),
        ({"line1": "  "}, "line1", "This field is required."),
        ({"city": ""}, "city", "This field is required."),
        ({"zip_code": ""}, "zip_code", "This field is required."),
        ({"state": ""}, "state", "This field is required."),
    ],
)
def test_address_form_refuses_with_a_clear_message(change, field, message):
    form = AddressForm({**TYPED, **change})
    assert not form.is_valid()
    assert message in " ".join(form.errors[field])


def test_address_form_cleans_to_upper_case_single_spaced():
    form = AddressForm(
        {
            "line1": "  12  main st ",
            "line2": "",
            "city": "el  paso",
            "state": "tx",
            "zip_code": " 79901-1234 ",
        }
    )
    assert form.is_valid(), form.errors
    assert form.address() == {
        "line1": "12 MAIN ST",
        "line2": "",
        "city": "EL PASO",
        "state": "TX",
        "zip_code": "79901-1234",
    }
    assert form.lines() == ["12 MAIN ST", "EL PASO TX 79901-1234"]


def test_address_form_takes_a_state_by_name():
    form = AddressForm({**TYPED, "state": "new mexico"})
    assert form.is_valid()
    assert form.cleaned_data["state"] == "NM"


# --- the suggestion ---


def test_scourgify_suggests_usps_abbreviations():
    assert suggest_usps_style(TYPED) == USPS


def test_no_suggestion_when_it_is_already_usps_style():
    assert suggest_usps_style(USPS) is None
    assert suggest_usps_style({**USPS, "city": "atlanta"}) is None


@pytest.mark.parametrize(
    "line1, city, state, zip_code",
    [
        ("PO Box 123", "Austin", "TX", "78701"),
        ("RR 2 Box 15", "Truth or Consequences", "NM", "87901"),
    ],
)
def test_no_suggestion_but_no_refusal_where_scourgify_fails(line1, city, state, zip_code):
    fields = {"line1": line1, "line2": "", "city": city, "state": state, "zip_code": zip_code}
    assert suggest_usps_style(fields) is None
    assert AddressForm(fields).is_valid()


def test_the_verifier_is_chosen_by_settings():
    assert isinstance(get_address_verifier(), ScourgifyVerifier)
    with override_settings(ADDRESS_VERIFIER="tests.accounts.test_address.FixedVerifier"):
        assert isinstance(get_address_verifier(), FixedVerifier)


# --- the page ---


@pytest.fixture
def holder():
    return CustomerAccountFactory(
        address={"created_at": dt.datetime(2025, 1, 2, tzinfo=dt.timezone.utc)}
    ).holder


def hidden_fields(html):
    """The hidden inputs of the "We suggest / What you typed" step, as a browser sends them."""
    form = html.split('id="address-choice"', 1)[1].split("</form>", 1)[0]
    return dict(re.findall(r'<input type="hidden"\s+name="([^"]+)"\s+value="([^"]*)"', form))


def test_page_shows_the_address_and_when_it_was_last_confirmed(client, holder):
    current = holder.customer_account.addresses.get()
    current.confirmed_at = current.created_at
    current.save()
    client.force_login(holder)
    html = client.get(URL).content.decode()
    assert "1200 E 6TH ST" in html
    assert "AUSTIN TX 78702" in html
    assert "Last confirmed on Jan. 1, 2025" in html  # America/Chicago


def test_a_different_suggestion_is_shown_next_to_what_was_typed(client, holder):
    client.force_login(holder)
    response = client.post(URL, TYPED)
    html = response.content.decode()
    assert "We suggest" in html and "What you typed" in html
    assert "455 PEACHTREE ST NE" in html and "455 PEACHTREE STREET NORTHEAST" in html
    assert holder.customer_account.addresses.count() == 1  # nothing saved yet


def test_accepting_the_suggestion_saves_it_normalised_and_keeps_history(client, holder):
    client.force_login(holder)
    account = holder.customer_account
    old = account.addresses.get()
    step = client.post(URL, TYPED)
    response = client.post(URL, {**hidden_fields(step.content.decode()), "choice": "suggested"})
    assert response.status_code == 302

    current = account.addresses.get(replaced_at__isnull=True)
    assert current.as_dict() == USPS
    assert current.confirmed_at is not None
    old.refresh_from_db()
    assert old.replaced_at == current.created_at
    assert account.addresses.count() == 2
    audit = AuditEvent.objects.get(action="address.changed")
    # rule B7: stored sealed with the holder's data key, read back in clear by staff.
    assert "1200 E 6TH ST" not in str(audit.before)
    assert audit_event_open(audit)["before"]["line1"] == "1200 E 6TH ST"
    assert audit_event_open(audit)["after"] == USPS

    html = client.get(URL).content.decode()
    history = html.split('id="address-history"', 1)[1]
    assert "1200 E 6TH ST" in history and "Replaced on" in history


def test_keeping_what_was_typed_saves_it_as_typed(client, holder):
    client.force_login(holder)
    step = client.post(URL, TYPED)
    client.post(URL, {**hidden_fields(step.content.decode()), "choice": "typed"})
    current = holder.customer_account.addresses.get(replaced_at__isnull=True)
    assert current.line1 == "455 PEACHTREE STREET NORTHEAST"
    assert current.line2 == "APARTMENT 4B"


def test_the_choice_is_validated_again_on_the_server(client, holder):
    client.force_login(holder)
    tampered = {
        **TYPED,
        **{f"suggested-{k}": v for k, v in USPS.items()},
        "suggested-zip_code": "303",
        "choice": "suggested",
    }
    response = client.post(URL, tampered)
    assert response.status_code == 200
    assert holder.customer_account.addresses.count() == 1


def test_an_address_with_no_suggestion_is_saved_at_once(client, holder):
    client.force_login(holder)
    response = client.post(URL, {**USPS, "line1": "455 peachtree st ne"})
    assert response.status_code == 302
    assert holder.customer_account.addresses.get(replaced_at__isnull=True).as_dict() == USPS


def test_an_address_scourgify_cannot_parse_is_saved_as_typed(client, holder):
    client.force_login(holder)
    po_box = {
        "line1": "PO Box 123",
        "line2": "",
        "city": "Austin",
        "state": "TX",
        "zip_code": "78701",
    }
    response = client.post(URL, po_box)
    assert response.status_code == 302
    assert holder.customer_account.addresses.get(replaced_at__isnull=True).line1 == "PO BOX 123"


def test_typing_the_same_address_confirms_it_without_new_history(client, holder):
    client.force_login(holder)
    client.post(URL, holder.customer_account.addresses.get().as_dict())
    address = holder.customer_account.addresses.get()
    assert address.confirmed_at is not None


@pytest.mark.parametrize(
    "change, message",
    [
        ({"state": "ZZ"}, "Enter a U.S. state or territory."),
        ({"zip_code": "1234"}, "Enter a zip code in the format XXXXX or XXXXX-XXXX."),
        ({"line1": ""}, "This field is required."),
    ],
)
def test_a_bad_address_is_refused_with_a_clear_message_and_nothing_saved(
    client, holder, change, message
):
    client.force_login(holder)
    response = client.post(URL, {**TYPED, **change})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert holder.customer_account.addresses.count() == 1
    assert not AuditEvent.objects.exists()


@override_settings(ADDRESS_VERIFIER="tests.accounts.test_address.RaisingVerifier")
def test_an_invalid_address_never_reaches_the_verifier(client, holder):
    client.force_login(holder)
    assert client.post(URL, {**TYPED, "zip_code": "x"}).status_code == 200


@override_settings(ADDRESS_VERIFIER="tests.accounts.test_address.FixedVerifier")
def test_the_page_uses_the_verifier_from_settings(client, holder):
    client.force_login(holder)
    typed = {**USPS, "line1": "455 PEACHTREE RD"}
    html = client.post(URL, typed).content.decode()
    assert "We suggest" in html and "455 PEACHTREE ST NE" in html


def test_a_holder_without_an_account_sees_a_message(client):
    client.force_login(UserFactory())
    response = client.get(URL)
    assert response.status_code == 200
    assert "no customer account" in response.content.decode()
    assert client.post(URL, TYPED).status_code == 200
    assert not MailingAddress.objects.exists()


def test_history_lists_previous_addresses_latest_replaced_first(client, holder):
    account = holder.customer_account
    MailingAddressFactory(
        account=account,
        replaced=True,
        line1="1 OLD RD",
        created_at=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc),
    )
    MailingAddressFactory(
        account=account,
        replaced=True,
        line1="2 OLDER RD",
        created_at=dt.datetime(2019, 1, 1, tzinfo=dt.timezone.utc),
    )
    client.force_login(holder)
    history = client.get(URL).content.decode().split('id="address-history"', 1)[1]
    assert history.index("1 OLD RD") < history.index("2 OLDER RD")
    assert "1200 E 6TH ST" not in history
