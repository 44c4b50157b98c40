from django import template

from accounts.models import phone_national

register = template.Library()


@register.filter
def phone(number) -> str:
    """A stored phone number in US national format: `+15125550100` → `(512) 555-0100`."""
    return phone_national(number)
