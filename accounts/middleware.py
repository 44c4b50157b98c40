from allauth.mfa.models import Authenticator
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation


class StaffMFARequiredMiddleware:
    """Staff reach the admin only with MFA enrolled (SPEC §5).

    allauth can offer MFA but not require it, so a staff member without a TOTP
    authenticator is sent to set one up before any admin page is shown.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            request.path.startswith(reverse("admin:index"))
            and user.is_authenticated
            and user.is_staff
            and not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
        ):
            return redirect(f"{reverse('mfa_activate_totp')}?next={request.path}")
        return self.get_response(request)


class BackOfficeInEnglishMiddleware:
    """Rule B5: the back office stays in English, whatever language the staff member's
    browser asks for or their holder pages are shown in. Runs after LocaleMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(reverse("admin:index")):
            translation.activate("en")
            request.LANGUAGE_CODE = "en"
        return self.get_response(request)
