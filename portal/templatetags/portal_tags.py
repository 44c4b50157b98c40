from django import template

from portal.dates import date_text
from portal.money import format_cents

register = template.Library()


@register.filter
def money(cents):
    """Render integer cents as dollars: `{{ refund.amount_cents|money }}` → `$42.50`."""
    return format_cents(cents)


@register.filter(expects_localtime=True)
def long_date(value, style="day"):
    """A day in the active language: `{{ refund.due_date|long_date:"weekday" }}` →
    "Wednesday, December 2, 2026" or "miércoles, 2 de diciembre de 2026" (rule B5)."""
    return date_text(value, style)
