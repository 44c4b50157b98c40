"""Refund status without signing in (SPEC B2)."""

from allauth.core import ratelimit
from django import forms
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from .selectors import closure_for_status_lookup


class StatusLookupForm(forms.Form):
    reference = forms.CharField(
        label=_("Closure reference"),
        max_length=20,
        help_text=_("It looks like CL-7KQ2-9XA4. It is in the email we sent when you closed."),
    )
    zip_code = forms.CharField(
        label=_("ZIP code of your address"),
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "inputmode": "numeric"}),
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )


def normalise_reference(value: str) -> str:
    """`cl 7kq2 9xa4` → `CL-7KQ2-9XA4`, so people can type it the way they read it."""
    chars = "".join(ch for ch in value.upper() if ch.isalnum())
    chars = chars.removeprefix("CL")
    return f"CL-{chars[:4]}-{chars[4:]}"


def refund_status(request):
    """Rule B2: closure reference + ZIP + last name → the refunds' status; nothing else.

    Every kind of mismatch gets the same answer, and lookups are rate-limited per IP
    and per reference, so the page cannot be used to learn anything by guessing.
    """
    form = StatusLookupForm(request.POST or None)
    closure = None
    searched = False
    status = 200
    if request.method == "POST" and form.is_valid():
        reference = normalise_reference(form.cleaned_data["reference"])
        if not ratelimit.consume(request, action="refund_status", key=reference):
            return render(request, "refunds/status_rate_limited.html", status=429)
        searched = True
        closure = closure_for_status_lookup(
            reference=reference,
            zip_code=form.cleaned_data["zip_code"],
            last_name=form.cleaned_data["last_name"],
        )
    context = {
        "form": form,
        "searched": searched,
        "closure": closure,
        "refunds": list(closure.refunds.order_by("created_at", "id")) if closure else [],
    }
    return render(request, "refunds/status.html", context, status=status)
