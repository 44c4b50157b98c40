"""Links the portal hands to people, on pages and in emails."""

from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse


def absolute_url(path: str) -> str:
    """A link for an email, which has no request to take the host from."""
    return f"{settings.PORTAL_URL.rstrip('/')}{path}"


def refund_status_url(reference: str, *, absolute: bool = False) -> str:
    """The refund status page with the closure reference filled in (a GET only pre-fills
    the form; nothing is looked up until the holder adds ZIP and last name)."""
    path = f"{reverse('refund_status')}?{urlencode({'reference': reference})}"
    return absolute_url(path) if absolute else path
