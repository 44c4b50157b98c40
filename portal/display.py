"""How the portal says times, zones and the support number to people (holders and staff)."""

import datetime as dt

from django.conf import settings
from django.utils import formats
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .business_calendar import business_zone

# US zones in the words people use; any other zone is shown by its name.
ZONE_WORDS = {
    "America/New_York": _("Eastern Time"),
    "America/Chicago": _("Central Time"),
    "America/Denver": _("Mountain Time"),
    "America/Phoenix": _("Mountain Time (Arizona)"),
    "America/Los_Angeles": _("Pacific Time"),
    "America/Anchorage": _("Alaska Time"),
    "Pacific/Honolulu": _("Hawaii Time"),
}


def zone_words(zone_name: str) -> str:
    """`America/Denver` → `Mountain Time`."""
    return str(ZONE_WORDS.get(zone_name, zone_name))


def business_datetime(moment: dt.datetime | None) -> str:
    """An aware moment in the business time zone, with its abbreviation: staff pages."""
    if moment is None:
        return ""
    local = moment.astimezone(business_zone())
    return f"{formats.date_format(local, 'DATETIME_FORMAT')} {local.strftime('%Z')}"


def business_zone_words() -> str:
    """`Central Time (CST)`, with the abbreviation in force now."""
    zone = business_zone()
    return f"{zone_words(zone.key)} ({dt.datetime.now(zone).strftime('%Z')})"


def code_words(code: str) -> str:
    """A stored code for staff to read: `closure.confirmed` → `closure confirmed`,
    `sign_in` → `sign in`."""
    return code.replace(".", " ").replace("_", " ")


def support_phone_link():
    """The support number as a tap-to-call link that never breaks across lines."""
    number = settings.SUPPORT_PHONE
    dial = "".join(ch for ch in number if ch.isdigit() or ch == "+")
    return format_html('<a class="text-nowrap" href="tel:{}">{}</a>', dial, number)
