from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from .forms import ProfileForm


@login_required
def my_account(request):
    return render(request, "accounts/my_account.html")


@login_required
def settings_home(request):
    return redirect("accounts:settings_profile")


@login_required
def settings_profile(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your profile was saved."))
        return redirect("accounts:settings_profile")
    return render(request, "accounts/settings_profile.html", {"form": form})


@login_required
def settings_address(request):
    return render(request, "accounts/settings_address.html")


@login_required
def settings_security(request):
    has_totp = Authenticator.objects.filter(
        user=request.user, type=Authenticator.Type.TOTP
    ).exists()
    return render(request, "accounts/settings_security.html", {"has_totp": has_totp})
