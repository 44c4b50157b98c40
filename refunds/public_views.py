"""Refund status without signing in (SPEC B2), and asking for a returned check or held
funds to be sent to a new address (B3, N5)."""

import re
import time

from allauth.core import ratelimit
from django import forms
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.forms import AddressForm

from .forms import address_to_save
from .models import REFERENCE_ALPHABET, AddressChangeRequest, Closure
from .selectors import closure_for_status_lookup
from .services.claims import (
    address_change_link_is_live,
    address_change_request_confirm,
    address_change_request_create,
    address_change_request_for_token,
    claimable,
)

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
            "awaiting": closure.address_changes.filter(
                status=AddressChangeRequest.Status.AWAITING_CONFIRMATION
            ).first(),
            **extra,
        },
    )


def _reference_from_link(request) -> dict:
    """The Done page and emails link here with `?reference=`; a well-formed reference only
    pre-fills the form (a GET never looks anything up), anything else is ignored."""
    reference = normalise_reference(request.GET.get("reference", "")[:20])
    if re.fullmatch(rf"CL-[{REFERENCE_ALPHABET}]{{4}}-[{REFERENCE_ALPHABET}]{{4}}", reference):
        return {"reference": reference}
    return {}


def refund_status(request):
    """Rule B2: closure reference + ZIP + last name → the refunds' status; nothing else.

    Every kind of mismatch gets the same answer. Lookups are limited (setting
    `ACCOUNT_RATE_LIMITS["refund_status"]`) per client (allauth's client IP, which
    honours the trusted-proxy settings): 20 an hour and 50 a day, and per reference,
    from all clients together: 30 an hour and 100 a day. One client alone can use at
    most 20 of the reference's 30 an hour and 50 of its 100 a day, so a visitor typing
    wrong details (eight times, or any number) never locks out the holder, who gets in
    from their own device with the right ZIP and name.

    Guessing stays impractical:
    - the reference: 31^8 ≈ 8.5 × 10^11 values; knowing a ZIP and name, a guesser needs
      ~4.3 × 10^11 tries on average: at 50 a day that is ~8.5 × 10^9 client-days
      (a million addresses: ~23 years);
    - ZIP + last name for a known reference: ~41,700 ZIP codes in use; even with the
      name known, ~20,850 tries on average: at 100 a day per reference ~208 days,
      however many clients (one client, at 50 a day: ~417 days). Someone who knows the
      holder's state narrows the ZIPs to a few hundred (New Mexico: ~430, so days), so
      ZIP + name is a weak secret: the page shows status only, and a new address sends
      no money until the holder confirms it by email or Refund operations approve it
      after a call (rule B3).
    """
    form = StatusLookupForm(request.POST or None, initial=_reference_from_link(request))
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
    # rule B3: after a lookup, the browser may ask for a new check for a while.
    window_seconds = settings.REFUND_CLAIM_WINDOW_MINUTES * 60
    if not data or time.time() - data.get("at", 0) > window_seconds:
        return None
    closure_id = data.get("id")
    if closure_id is None:
        return None
    return Closure.objects.select_related("account__holder").filter(pk=closure_id).first()


def refund_claim(request):
    """B3, N5: a new, verified address for a returned check or held funds. It sends no
    money by itself: it waits for the holder to confirm it from the email on record."""
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
        if not ratelimit.consume(request, action="refund_claim", key=closure.reference):
            return render(request, "refunds/status_rate_limited.html", status=429)
        # A refusal (nothing left to send, say) is shown by `RefusedMiddleware`.
        address_change_request_create(closure=closure, address=chosen)
        # The same words whether or not an email is on record: nothing is revealed.
        messages.success(
            request,
            _(
                "Thank you. We emailed a link to confirm this address to the email "
                "address on record for this account. No check goes out until you "
                "confirm. If you cannot get that email, call Customer Support at "
                "%(phone)s."
            )
            % {"phone": settings.SUPPORT_PHONE},
        )
        return _status_page(request, closure)
    return _status_page(request, closure, claim_form=form)


def refund_confirm_address(request, token):
    """Rule B3: the one-time link from the email. Opening it shows the address (mail
    scanners open links too); only the button confirms and creates the new check."""
    change = address_change_request_for_token(token)
    if request.method == "POST" and change is not None:
        change = address_change_request_confirm(token=token)
    live = change is not None and address_change_link_is_live(change, timezone.now())
    return render(
        request,
        "refunds/confirm_address.html",
        {"change": change, "live": live},
        status=200 if change is not None else 404,
    )
