"""The portal's URLs plus the bench's two reference pages, so each page's time is read
against what any signed-in request costs on the same machine:

- the floor: a signed-in page that does nothing else;
- the least holder page: what any holder page must do at the least, read the holder's
  account (one query, `account_for_holder`) and render the base layout around its number
  and balance. It shows how much of the floor's speed is left for a page's own work."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.template import engines
from django.urls import path

from accounts.selectors import account_for_holder
from portal.urls import urlpatterns as portal_urlpatterns

LEAST_HOLDER_TEMPLATE = engines["django"].from_string(
    '{% extends "base.html" %}{% load portal_tags %}{% block content %}'
    "<h1>My Account</h1><p>{{ account.number }}</p>"
    "<p>{{ account.advance_connect.balance_cents|money }}</p>{% endblock %}"
)


@login_required
def floor(request):
    return HttpResponse(f"signed in as user {request.user.pk}", content_type="text/plain")


@login_required
def least_holder_page(request):
    context = {"account": account_for_holder(request.user)}
    return HttpResponse(LEAST_HOLDER_TEMPLATE.render(context, request))


urlpatterns = [
    path("bench/floor/", floor, name="bench_floor"),
    path("bench/least-holder-page/", least_holder_page, name="bench_least_holder_page"),
    *portal_urlpatterns,
]
