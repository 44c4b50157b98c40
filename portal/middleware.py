from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from .business_calendar import business_zone
from .errors import Refused


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
