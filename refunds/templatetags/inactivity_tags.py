"""My Account's New Mexico panel (rule N3), drawn from the refunds app so that the
accounts app never imports it."""

from django import template
from django.utils import timezone

from ..services.inactivity import inactivity_outlook

register = template.Library()


@register.inclusion_tag("refunds/partials/inactivity_outlook.html", takes_context=True)
def inactivity_panel(context, account):
    """The closure date, the balance's fate and the Keep-open button; nothing for
    accounts the rule does not cover."""
    return {
        "outlook": inactivity_outlook(account=account, now=timezone.now()),
        "csrf_token": context.get("csrf_token"),
    }
