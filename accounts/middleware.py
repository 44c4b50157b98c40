from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


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


# The session keys of SessionLimitsMiddleware: when this sign-in started, when it was
# last used (seconds since the epoch).
SESSION_STARTED = "session_limits_started"
SESSION_SEEN = "session_limits_seen"
# Last use is written at most this often, so a page view is not a session write.
SEEN_RESOLUTION_SECONDS = 60


def session_limits_start(session, *, at) -> None:
    """Start the clocks of a new sign-in (called on `user_logged_in`)."""
    session[SESSION_STARTED] = session[SESSION_SEEN] = int(at.timestamp())


def idle_limit_seconds(user) -> int:
    """Staff: 30 minutes; holders: 15 (see `HOLDER_SESSION_IDLE_SECONDS` in settings)."""
    if user.is_staff:
        return settings.STAFF_SESSION_IDLE_SECONDS
    return settings.HOLDER_SESSION_IDLE_SECONDS


class SessionLimitsMiddleware:
    """Sign a person out after a while without using the portal, and after
    `SESSION_ABSOLUTE_SECONDS` in all (12 hours) however active they are.

    Staff end after 30 minutes idle (the back office moves money for everyone). Holders
    end after 15 minutes idle: many use a phone shared with family or a library
    computer, a signed-in session can change the address a refund check is mailed to,
    and every holder task (a settings change, the Delete Account steps) takes minutes,
    so signing in again costs little. Last use is recorded to the minute.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated:
            now = int(timezone.now().timestamp())
            session = request.session
            started = session.get(SESSION_STARTED, now)
            seen = session.get(SESSION_SEEN, now)
            idle_limit = idle_limit_seconds(user)
            idle = now - seen > idle_limit
            if idle or now - started > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
                messages.info(
                    request,
                    ngettext(
                        "You were signed out after %(minutes)d minute without activity.",
                        "You were signed out after %(minutes)d minutes without activity.",
                        idle_limit // 60,
                    )
                    % {"minutes": idle_limit // 60}
                    if idle
                    else _("You were signed out because you had been signed in for a long time."),
                )
            elif SESSION_STARTED not in session or now - seen >= SEEN_RESOLUTION_SECONDS:
                session[SESSION_STARTED] = started
                session[SESSION_SEEN] = now
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
