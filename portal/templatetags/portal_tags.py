from django import template

from portal.money import format_cents

register = template.Library()


@register.filter
def money(cents):
    """Render integer cents as dollars: `{{ refund.amount_cents|money }}` → `$42.50`."""
    return format_cents(cents)
