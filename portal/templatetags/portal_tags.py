from django import template

from portal import links
from portal.dates import date_text
from portal.display import business_zone_words, zone_words
from portal.money import format_cents

register = template.Library()


@register.filter
def money(cents):
    """Render integer cents as dollars: `{{ refund.amount_cents|money }}` → `$42.50`."""
    return format_cents(cents)


@register.filter
def zone_name(zone):
    """`{{ account.time_zone|zone_name }}` → `Mountain Time`."""
    return zone_words(zone)


@register.simple_tag
def business_zone_label():
    """`Central Time (CST)`: the business time zone, named where staff read times."""
    return business_zone_words()


@register.simple_tag
def refund_status_url(reference, absolute=False):
    """`{% refund_status_url closure.reference %}`: the status page, reference filled in."""
    return links.refund_status_url(reference, absolute=absolute)


@register.filter(expects_localtime=True)
def long_date(value, style="day"):
    """A day in the active language: `{{ refund.due_date|long_date:"weekday" }}` →
    "Wednesday, December 2, 2026" or "miércoles, 2 de diciembre de 2026" (rule B5)."""
    return date_text(value, style)
