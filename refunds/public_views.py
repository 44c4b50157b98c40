"""Refund status without signing in (SPEC B2), and asking for a returned check or held
funds to be sent to a new address (B3, N5)."""

import time

from allauth.core import ratelimit
from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.forms import AddressForm
from portal.dates import date_text

from .forms import address_to_save
from .models import Closure
from .selectors import closure_for_status_lookup
from .services.claims import claimable, refund_claim_to_new_address

# After a successful lookup, the browser may ask for a new check for this long.
CLAIM_WINDOW_SECONDS = 30 * 60
SESSION_KEY = "refund_status_closure"


class StatusLookupForm(forms.Form):
    reference = forms.CharField(
        label=gettext_lazy("Closure reference"),
        max_length=20,
        help_text=gettext_lazy(
            "It looks like CL-7KQ2-9XA4. It is in the email we sent when you closed."
        ),
    )
    zip_code = forms.CharField(
        label=gettext_lazy("ZIP code of your address"),
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "inputmode": "numeric"}),
    )
    last_name = forms.CharField(
        label=gettext_lazy("Last name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )


def normalise_reference(value: str) -> str:
    """`cl 7kq2 9xa4` → `CL-7KQ2-9XA4`, so people can type it the way they read it."""
    chars = "".join(ch for ch in value.upper() if ch.isalnum())
    chars = chars.removeprefix("CL")
    return f"CL-{chars[:4]}-{chars[4:]}"


def _status_page(request, closure, **extra):
    return render(
        request,
        "refunds/status.html",
        {
            "closure": closure,
            "refunds": list(closure.refunds.order_by("created_at", "id")),
            "claimable": claimable(closure),
            "claim_form": AddressForm(),
            **extra,
        },
    )


def refund_status(request):
    """Rule B2: closure reference + ZIP + last name → the refunds' status; nothing else.

    Every kind of mismatch gets the same answer, and lookups are rate-limited per IP
    and per reference, so the page cannot be used to learn anything by guessing.
    """
    form = StatusLookupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        reference = normalise_reference(form.cleaned_data["reference"])
        if not ratelimit.consume(request, action="refund_status", key=reference):
            return render(request, "refunds/status_rate_limited.html", status=429)
        closure = closure_for_status_lookup(
            reference=reference,
            zip_code=form.cleaned_data["zip_code"],
            last_name=form.cleaned_data["last_name"],
        )
        if closure is not None:
            request.session[SESSION_KEY] = {"id": closure.pk, "at": time.time()}
            return _status_page(request, closure)
        return render(request, "refunds/status.html", {"form": form, "searched": True})
    return render(request, "refunds/status.html", {"form": form})


def _looked_up_closure(request):
    data = request.session.get(SESSION_KEY) or {}
    if not data or time.time() - data.get("at", 0) > CLAIM_WINDOW_SECONDS:
        return None
    return Closure.objects.select_related("account__holder").filter(pk=data.get("id")).first()


def refund_claim(request):
    """B3, N5: send a returned check or held funds to a new, verified address."""
    closure = _looked_up_closure(request)
    if closure is None or claimable(closure) is None:
        messages.info(request, _("Look up your refund first."))
        return redirect("refund_status")
    form = AddressForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        chosen, suggestion = address_to_save(form, request.POST.get("action"))
        if chosen is None:
            return _status_page(
                request, closure, claim_form=form, suggestion=suggestion, typed=form.address()
            )
        check = refund_claim_to_new_address(closure=closure, address=chosen)
        if check is not None:
            messages.success(
                request,
                _("Thank you. A new check will be mailed to %(address)s by %(date)s.")
                % {
                    "address": ", ".join(check.address_lines()),
                    "date": date_text(check.due_date),
                },
            )
        return _status_page(request, closure)
    return _status_page(request, closure, claim_form=form)
