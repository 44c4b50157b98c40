import time

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.urls import reverse

from portal.links import refund_status_url

from .selectors import closed_account_for_email

# allauth's answers to a sign-up with a known address and a reset for an unknown (or
# inactive) one; for a closed holder both become the one "your account is closed" email.
ANSWERS_FOR_A_CLOSED_HOLDER = {
    "account/email/account_already_exists",
    "account/email/unknown_account",
}
CLOSED_REFERENCE_SESSION_KEY = "closed_account_reference"
SIGNED_IN_AT_SESSION_KEY = "signed_in_at"


class AccountAdapter(DefaultAccountAdapter):
    """The one place where the portal customises allauth's behaviour."""

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """A closed holder who signs up again or resets the password gets the same email
        either way. The page the visitor sees is allauth's, the same for any address."""
        if template_prefix in ANSWERS_FOR_A_CLOSED_HOLDER:
            account = closed_account_for_email(email)
            if account is not None:
                template_prefix = "account/email/account_closed"
                reference = account.closure.reference
                context = {
                    **context,
                    "account_number": account.number,
                    "closure_reference": reference,
                    "status_url": refund_status_url(reference, absolute=True),
                    "SUPPORT_PHONE_NUMBER": settings.SUPPORT_PHONE,
                }
        super().send_mail(template_prefix, email, context)

    def respond_user_inactive(self, request, user):
        """Reached only with the right password: the closed holder's page can then show
        the status link with their own reference filled in."""
        account = closed_account_for_email(user.email)
        if account is not None:
            request.session[CLOSED_REFERENCE_SESSION_KEY] = account.closure.reference
        return super().respond_user_inactive(request, user)

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        """Rule D5: for the portal's own dangerous actions (`app` empty, e.g. Delete
        Account), a sign-in in the last ACCOUNT_REAUTHENTICATION_TIMEOUT seconds counts as
        the password just entered; allauth alone counts only a re-entered password."""
        signed_in_at = self.request.session.get(SIGNED_IN_AT_SESSION_KEY) if self.request else None
        if (
            not app
            and signed_in_at is not None
            and time.time() - signed_in_at < settings.ACCOUNT_REAUTHENTICATION_TIMEOUT
        ):
            return False
        return super().is_reauthentication_required(app=app, **kwargs)

    def get_login_redirect_url(self, request) -> str:
        """Staff land in the back office (after MFA); holders on My Account."""
        if request.user.is_staff:
            return reverse("admin:index")
        return super().get_login_redirect_url(request)
