"""Reactions to allauth's signals."""

from allauth.account.signals import user_logged_in
from django.contrib.auth import signals as auth_signals
from django.dispatch import receiver
from django.utils import timezone

from .middleware import session_limits_start
from .models import CustomerAccount
from .services import Activity, account_record_activity


@receiver(user_logged_in, dispatch_uid="accounts.record_sign_in")
def record_sign_in(sender, request, user, **kwargs):
    """Rule N2: a sign-in is activity on the holder's account."""
    account = CustomerAccount.objects.filter(holder=user).first()
    if account is not None:
        account_record_activity(account=account, kind=Activity.SIGN_IN, at=timezone.now())


@receiver(auth_signals.user_logged_in, dispatch_uid="accounts.session_limits_start")
def start_session_limits(sender, request, user, **kwargs):
    """Every sign-in starts its own idle and absolute clocks (SessionLimitsMiddleware)."""
    if request is not None:
        session_limits_start(request.session, at=timezone.now())
