from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from portal.middleware import refused_redirect_to

from .forms import AddressForm, PhoneNumberForm, ProfileForm, address_choice, address_suggestion
from .language import CHOSEN_BEFORE_SIGN_IN, language_cookie_set, offered_language
from .models import PhoneNumber
from .selectors import account_for_holder, addresses_on_record, my_account_overview, phone_numbers
from .services import (
    address_change,
    address_confirm,
    phone_number_add,
    phone_number_remove,
    user_language_set,
)


@require_POST
def language_switch(request):
    """Rule B5: the language link on every page. Django's `set_language` sets the cookie
    and goes back; the choice is also stored on the holder, or, before sign-in, kept
    in the session for the sign-in to store."""
    response = set_language(request)
    language = offered_language(request.POST.get("language"))
    if language is None:
        # set_language accepts any language Django knows; only those offered are kept.
        response.cookies.pop(settings.LANGUAGE_COOKIE_NAME, None)
    elif request.user.is_authenticated:
        user_language_set(user=request.user, language=language)
    else:
        request.session[CHOSEN_BEFORE_SIGN_IN] = language
    return response


@login_required
def my_account(request):
    account = account_for_holder(request.user, with_lists=True)
    overview = my_account_overview(account, now=timezone.now()) if account else None
    return render(request, "accounts/my_account.html", {"overview": overview})


@login_required
def settings_home(request):
    return redirect("accounts:settings_profile")


def _render_profile(request, *, form=None, phone_form=None):
    account = account_for_holder(request.user)
    if account and phone_form is None:
        phone_form = PhoneNumberForm(account=account, action=reverse("accounts:phone_add"))
    context = {
        "form": form if form is not None else ProfileForm(instance=request.user),
        "account": account,
        "phone_numbers": list(phone_numbers(account)) if account else [],
        "phone_form": phone_form,
    }
    return render(request, "accounts/settings_profile.html", context)


@login_required
def settings_profile(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        messages.success(request, _("Your profile was saved."))
        response = redirect("accounts:settings_profile")
        # rule B5: the language picked is the one LocaleMiddleware serves from now on
        language_cookie_set(response, user.language)
        return response
    return _render_profile(request, form=form)


@login_required
@require_POST
def phone_add(request):
    account = account_for_holder(request.user)
    if account is None:
        raise Http404
    form = PhoneNumberForm(request.POST, account=account, action=reverse("accounts:phone_add"))
    if not form.is_valid():
        return _render_profile(request, phone_form=form)
    phone_number_add(
        account=account,
        number=form.cleaned_data["number"],
        label=form.cleaned_data["label"],
        actor=request.user,
        at=timezone.now(),
    )
    messages.success(request, _("The phone number was added."))
    return redirect("accounts:settings_profile")


@login_required
@require_POST
@refused_redirect_to("accounts:settings_profile")
def phone_remove(request, pk):
    phone = get_object_or_404(PhoneNumber, pk=pk, account__holder=request.user)
    phone_number_remove(phone_number=phone, actor=request.user, at=timezone.now())
    messages.success(request, _("The phone number was removed."))
    return redirect("accounts:settings_profile")


@login_required
def settings_address(request):
    """Change the address on record: type it, then pick the suggested USPS style or keep
    what was typed. Every POST is validated again here, whatever it carries."""
    account = account_for_holder(request.user)
    if account is None:
        return render(request, "accounts/settings_address.html", {"account": None})
    current, previous = addresses_on_record(account)
    form = AddressForm(request.POST or None, initial=current.as_dict() if current else None)
    suggestion = None
    if request.method == "POST" and form.is_valid():
        chosen = address_choice(request.POST)
        if chosen is None:
            suggestion = address_suggestion(form)
            chosen = form if suggestion is None else None
        if chosen is not None and chosen.is_valid():
            if current and chosen.address() == current.as_dict():
                address_confirm(address=current, at=timezone.now())
                messages.success(request, _("Your address is confirmed."))
            else:
                address_change(
                    account=account,
                    actor=request.user,
                    at=timezone.now(),
                    confirmed=True,
                    **chosen.address(),
                )
                messages.success(request, _("Your address was saved."))
            return redirect("accounts:settings_address")
    context = {
        "account": account,
        "current": current,
        "previous": previous,
        "form": form,
        "suggestion": suggestion,
    }
    return render(request, "accounts/settings_address.html", context)


@login_required
def settings_security(request):
    has_totp = Authenticator.objects.filter(
        user=request.user, type=Authenticator.Type.TOTP
    ).exists()
    return render(request, "accounts/settings_security.html", {"has_totp": has_totp})
