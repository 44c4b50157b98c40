"""The one US mailing address validator and normaliser (rules D2, B3, N5).

Every address the portal mails to goes through `address_validate`: the holder's forms
(My Settings, Delete Account D2, the signed-out claim page), the back office's forms
and the services that write a check address. It returns a `USAddress` in USPS style
(capitals, single spaces, a state code) or raises a `ValidationError` with a message in
plain words for each field that is wrong.

`address_suggest` offers a USPS-style form of a valid address from the verifier named by
the `ADDRESS_VERIFIER` setting (a dotted path to a class with
`suggest(fields) -> dict | None`; scourgify by default, a USPS Addresses API client can
replace it). A suggestion only: the holder picks, and an address is never refused
because a verifier failed on it.
"""

import dataclasses
import logging
import re

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from localflavor.us.forms import USStateField, USZipCodeField
from localflavor.us.us_states import STATE_CHOICES
from scourgify import normalize_address_record

logger = logging.getLogger(__name__)

FIELDS = ("line1", "line2", "city", "state", "zip_code")


@dataclasses.dataclass(frozen=True)
class USAddress:
    """A valid US mailing address in USPS style."""

    line1: str
    city: str
    state: str
    zip_code: str
    line2: str = ""

    def as_dict(self) -> dict[str, str]:
        """The address with the keys of `MailingAddress.as_dict()`."""
        return {name: getattr(self, name) for name in FIELDS}

    def lines(self) -> list[str]:
        """The lines of an envelope."""
        last = f"{self.city} {self.state} {self.zip_code}"
        return [line for line in (self.line1, self.line2, last) if line]


# What a mailing address is written with: letters (any language), digits, spaces and the
# punctuation of addresses. Markup, template syntax, emoji and invisible characters
# cannot be printed on an envelope, so they are refused in plain words.
_envelope_text = RegexValidator(
    r"^[\w\s#&'’,./()-]*\Z",
    _("Use only letters, numbers, spaces and . , # / - ' & ( )"),
)

# A first line a letter can go to: a number and a word ("455 W 2ND ST", "PO BOX 12",
# "RR 2 BOX 15"), or USPS General Delivery, which has no number.
_NUMBER_AND_WORD = re.compile(r"(?=.*\d)(?=.*[A-Z]{2})", re.IGNORECASE)
_GENERAL_DELIVERY = "GENERAL DELIVERY"


def _street_line(line1: str) -> None:
    """Rules D2, B3: the first line names a number and a street (or box); "asdf", "N/A"
    or a lone number are not addresses. A rule, not a verifier: it never refuses a real
    address that the suggestion service happens not to know."""
    line = _plain_upper(line1)
    if line != _GENERAL_DELIVERY and not _NUMBER_AND_WORD.match(line):
        raise ValidationError(
            _(
                "Enter the street address with its number, like 455 W 2ND ST, "
                "or a PO box, like PO BOX 12."
            ),
            code="not_a_street_line",
        )


class _MailingStateField(USStateField):
    """A state or territory by code or name, as its code. localflavor also takes the
    freely associated states (FM, MH, PW), which the address model cannot hold."""

    def clean(self, value):
        state = super().clean(value)
        if state not in dict(STATE_CHOICES):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return state


def _cleaners() -> dict[str, forms.Field]:
    """Django's and localflavor's fields, for their checks and their translated messages.
    The required messages name the field: a service shows them without a form."""
    return {
        "line1": forms.CharField(
            max_length=100,
            validators=[_envelope_text, _street_line],
            error_messages={"required": _("Enter the street address.")},
        ),
        "line2": forms.CharField(max_length=100, required=False, validators=[_envelope_text]),
        "city": forms.CharField(
            max_length=60,
            validators=[_envelope_text],
            error_messages={"required": _("Enter the city.")},
        ),
        "state": _MailingStateField(error_messages={"required": _("Choose a state.")}),
        "zip_code": USZipCodeField(error_messages={"required": _("Enter the ZIP code.")}),
    }


def _plain_upper(value: object) -> str:
    return " ".join(str(value or "").split()).upper()


def address_validate(
    *, line1: str, city: str, state: str, zip_code: str, line2: str = ""
) -> USAddress:
    """Rules D2, B3, N5: the address cleaned to USPS style, or a `ValidationError` with
    the message of each wrong field (`error_dict`, keyed by the names of `FIELDS`)."""
    typed = {"line1": line1, "line2": line2, "city": city, "state": state, "zip_code": zip_code}
    cleaned, errors = {}, {}
    for name, field in _cleaners().items():
        try:
            cleaned[name] = field.clean(typed[name])
        except ValidationError as invalid:
            errors[name] = invalid.error_list
    if errors:
        raise ValidationError(errors)
    return USAddress(
        line1=_plain_upper(cleaned["line1"]),
        line2=_plain_upper(cleaned["line2"]),
        city=_plain_upper(cleaned["city"]),
        state=cleaned["state"],
        zip_code=cleaned["zip_code"],
    )


def address_refusal(invalid: ValidationError) -> str:
    """The messages of an invalid address in one line, for a service's refusal."""
    return " ".join(invalid.messages)


def address_suggest(address: USAddress) -> USAddress | None:
    """The verifier's USPS-style form of a valid address, validated like anything typed;
    None when it has nothing different or nothing valid to suggest."""
    suggested = get_address_verifier().suggest(address.as_dict())
    if not suggested:
        return None
    try:
        suggestion = address_validate(**suggested)
    except ValidationError:
        return None
    return None if suggestion == address else suggestion


# Our field names and scourgify's, in the same order.
_SCOURGIFY_KEYS = dict(
    zip(FIELDS, ("address_line_1", "address_line_2", "city", "state", "postal_code"), strict=True)
)


def suggest_usps_style(fields: dict) -> dict | None:
    """The address in USPS style (same keys), or None when there is nothing different
    to suggest or scourgify cannot make sense of it."""
    record = {theirs: _plain_upper(fields.get(ours)) for ours, theirs in _SCOURGIFY_KEYS.items()}
    try:
        normalised = normalize_address_record(record)
    except Exception:  # scourgify raises on PO boxes, rural routes and some city names
        logger.info("No USPS-style suggestion for an address", exc_info=True)
        return None
    if not normalised:
        return None
    suggestion = {
        ours: _plain_upper(normalised.get(theirs)) for ours, theirs in _SCOURGIFY_KEYS.items()
    }
    if suggestion == {name: _plain_upper(fields.get(name)) for name in FIELDS}:
        return None
    return suggestion


class ScourgifyVerifier:
    """Offline suggestions from usaddress-scourgify; it never says an address is wrong."""

    def suggest(self, fields: dict) -> dict | None:
        return suggest_usps_style(fields)


def get_address_verifier():
    """The verifier named by the `ADDRESS_VERIFIER` setting (scourgify by default)."""
    path = getattr(settings, "ADDRESS_VERIFIER", "accounts.addresses.ScourgifyVerifier")
    return import_string(path)()
