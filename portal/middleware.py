from django.urls import reverse
from django.utils import timezone

from .business_calendar import business_zone


class AdminBusinessTimeZoneMiddleware:
    """Staff read every time in the business time zone (SPEC §0); the admin header names
    it. Holders' pages keep their own zones."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(reverse("admin:index")):
            with timezone.override(business_zone()):
                return self.get_response(request)
        return self.get_response(request)
