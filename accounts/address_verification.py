"""Suggest a USPS-style form of a mailing address. A suggestion only: the holder picks,
and an address is never refused because a verifier failed on it.

The verifier is chosen by the `ADDRESS_VERIFIER` setting (a dotted path to a class with
`suggest(fields) -> dict | None`), so a USPS Addresses API client can replace scourgify.
"""

import logging
import re

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from scourgify import normalize_address_record

logger = logging.getLogger(__name__)

FIELDS = ("line1", "line2", "city", "state", "zip_code")
# Our field names and scourgify's, in the same order.
_SCOURGIFY_KEYS = dict(
    zip(FIELDS, ("address_line_1", "address_line_2", "city", "state", "postal_code"), strict=True)
)


def _plain(value) -> str:
    return " ".join(str(value or "").split()).upper()


def suggest_usps_style(fields: dict) -> dict | None:
    """The address in USPS style (same keys), or None when there is nothing different
    to suggest or scourgify cannot make sense of it."""
    record = {theirs: _plain(fields.get(ours)) for ours, theirs in _SCOURGIFY_KEYS.items()}
    try:
        normalised = normalize_address_record(record)
    except Exception:  # scourgify raises on PO boxes, rural routes and some city names
        logger.info("No USPS-style suggestion for an address", exc_info=True)
        return None
    if not normalised:
        return None
    suggestion = {ours: _plain(normalised.get(theirs)) for ours, theirs in _SCOURGIFY_KEYS.items()}
    if suggestion == {name: _plain(fields.get(name)) for name in FIELDS}:
        return None
    return suggestion


class ScourgifyVerifier:
    """Offline suggestions from usaddress-scourgify; it never says an address is wrong."""

    def suggest(self, fields: dict) -> dict | None:
        return suggest_usps_style(fields)


# A first line a letter can go to: a number and a word ("455 W 2ND ST", "PO BOX 12",
# "RR 2 BOX 15"), or USPS General Delivery, which has no number.
_NUMBER_AND_WORD = re.compile(r"(?=.*\d)(?=.*[A-Z]{2})", re.IGNORECASE)
GENERAL_DELIVERY = "GENERAL DELIVERY"
NOT_A_STREET_LINE = _(
    "Enter the street address with its number, like 455 W 2ND ST, or a PO box, like PO BOX 12."
)


def is_street_line(line1: str) -> bool:
    """Rules D2, B3: the first line of an address names a number and a street (or box);
    "asdf", "N/A" or a lone number are not addresses. A rule, not a verifier: it never
    refuses a real address that the suggestion service happens not to know."""
    line = " ".join(str(line1 or "").split()).upper()
    return line == GENERAL_DELIVERY or bool(_NUMBER_AND_WORD.match(line))


def get_address_verifier():
    """The verifier named by the `ADDRESS_VERIFIER` setting (scourgify by default)."""
    path = getattr(settings, "ADDRESS_VERIFIER", "accounts.address_verification.ScourgifyVerifier")
    return import_string(path)()
