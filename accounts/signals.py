"""Reactions to allauth's signals."""

import time

from allauth.account.signals import user_logged_in
from django.contrib.auth import signals as auth_signals
from django.dispatch import receiver
from django.utils import timezone, translation

from .adapter import SIGNED_IN_AT_SESSION_KEY
from .language import CHOSEN_BEFORE_SIGN_IN, language_cookie_set, offered_language
from .middleware import session_limits_start
from .models import CustomerAccount
from .services import Activity, account_record_activity, user_language_set


@receiver(user_logged_in, dispatch_uid="accounts.record_sign_in")
def record_sign_in(sender, request, user, **kwargs):
    """Rule N2: a sign-in is activity on the holder's account."""
    account = CustomerAccount.objects.filter(holder=user).first()
    if account is not None:
        account_record_activity(account=account, kind=Activity.SIGN_IN, at=timezone.now())


@receiver(user_logged_in, dispatch_uid="accounts.stamp_sign_in_time")
def stamp_sign_in_time(sender, request, user, **kwargs):
    """Rule D5: when this session signed in through allauth (after MFA, if any)."""
    request.session[SIGNED_IN_AT_SESSION_KEY] = time.time()


@receiver(user_logged_in, dispatch_uid="accounts.apply_language")
def apply_language(sender, request, user, response=None, **kwargs):
    """Rule B5: a language picked on the sign-in page becomes the holder's; otherwise the
    stored one is applied, on this device and from now on; a holder who never picked
    keeps the language their browser asked for, stored so emails follow it too."""
    language = (
        offered_language(request.session.pop(CHOSEN_BEFORE_SIGN_IN, None))
        or offered_language(user.language)
        or translation.get_supported_language_variant(translation.get_language())
    )
    user_language_set(user=user, language=language)
    translation.activate(language)
    request.LANGUAGE_CODE = language
    if response is not None:
        language_cookie_set(response, language)


@receiver(auth_signals.user_logged_in, dispatch_uid="accounts.session_limits_start")
def start_session_limits(sender, request, user, **kwargs):
    """Every sign-in starts its own idle and absolute clocks (SessionLimitsMiddleware)."""
    if request is not None:
        session_limits_start(request.session, at=timezone.now())
