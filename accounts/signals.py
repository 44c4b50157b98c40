"""Reactions to allauth's signals."""

import time

from allauth.account.signals import user_logged_in
from django.dispatch import receiver
from django.utils import timezone

from .adapter import SIGNED_IN_AT_SESSION_KEY
from .models import CustomerAccount
from .services import Activity, account_record_activity


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
