"""Suggest a USPS-style form of a mailing address. A suggestion only: the holder picks,
and an address is never refused because a verifier failed on it.

The verifier is chosen by the `ADDRESS_VERIFIER` setting (a dotted path to a class with
`suggest(fields) -> dict | None`), so a USPS Addresses API client can replace scourgify.
"""

import logging

from django.conf import settings
from django.utils.module_loading import import_string
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


def get_address_verifier():
    """The verifier named by the `ADDRESS_VERIFIER` setting (scourgify by default)."""
    path = getattr(settings, "ADDRESS_VERIFIER", "accounts.address_verification.ScourgifyVerifier")
    return import_string(path)()
