"""Request and response rules every page shares: unreadable input is refused before any
view sees it, a service's refusal is a message, nothing personal is kept in a browser's or
a proxy's cache, and staff read times in the business time zone."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from .business_calendar import business_zone
from .errors import Refused

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
    """`Cache-Control: no-store` (with Django's never-cache headers) on every answer the
    portal makes that does not set its own caching: what a signed-in person sees (the
    records download included), a refund's status (rule B2), and the public pages too,
    which carry a CSRF token and one-time messages ("you were signed out"). Static files
    are answered before this middleware and keep their long caching."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
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


def refused_redirect_to(url_name: str):
    """Mark a view whose refusals go back to `url_name` rather than to the view itself
    (a POST-only endpoint has no page of its own): see `RefusedMiddleware`."""

    def decorator(view):
        view.refused_redirect_to = url_name
        return view

    return decorator


class RefusedMiddleware:
    """The one place a service's refusal (`portal.errors.Refused`: nothing was changed)
    reaches a person: its plain-words message, shown on the page they acted from, never a
    500. After a POST the browser goes back to the page that posted (the view itself, or
    the URL named by `refused_redirect_to`); a GET goes to the home page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        request.refused_redirect_to = getattr(view_func, "refused_redirect_to", None)

    def process_exception(self, request, exception):
        if not isinstance(exception, Refused):
            return None
        messages.error(request, str(exception))
        target = getattr(request, "refused_redirect_to", None)
        if target:
            return redirect(target)
        if request.method in ("GET", "HEAD"):
            return redirect("home")
        return redirect(request.get_full_path())
