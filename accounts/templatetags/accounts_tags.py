from django import template

from accounts.models import PhoneNumber

register = template.Library()


@register.filter
def phone(number):
    """Show a stored phone number the way PhoneNumber does: `5125550100` → `(512) 555-0100`."""
    return str(PhoneNumber(number=number or ""))
