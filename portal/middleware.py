"""Request and response rules every page shares: unreadable input is refused before any
view sees it, nothing personal is kept in a browser's or a proxy's cache, and staff read
times in the business time zone."""

from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from .business_calendar import business_zone

NUL = "\x00"


def _has_nul(querydict) -> bool:
    return any(
        NUL in key or any(NUL in value for value in values) for key, values in querydict.lists()
    )


class RefuseNulMiddleware:
    """A NUL byte is never typed by a person, and PostgreSQL refuses it in any text, so a
    search, filter, form or address carrying one is answered with a plain 400 page and
    nothing changed, rather than reaching a query (a 500 on PostgreSQL)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if NUL in request.path or _has_nul(request.GET) or _has_nul(request.POST):
            return render(request, "refused_input.html", status=400)
        return self.get_response(request)


class NoStoreMiddleware:
    """`Cache-Control: no-store` (with Django's never-cache headers) on every answer that
    may hold personal or money data: anything a signed-in person sees (the records
    download included) and every answer to a POST (the refund status lookup). The public
    refund status pages are wrapped in `never_cache` in `portal.urls` for their GETs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or request.method not in ("GET", "HEAD"):
            add_never_cache_headers(response)
        return response


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
