from allauth.mfa.models import Authenticator
from django.shortcuts import redirect
from django.urls import reverse


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
