"""Emails to holders, rendered from text and HTML templates in their language (B5)."""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from portal.context_processors import rule_numbers
from portal.display import support_phone_link

logger = logging.getLogger(__name__)


def send_holder_email(*, user, template: str, context: dict) -> None:
    """Send `templates/emails/<template>.{subject.txt,txt,html}` to `user`."""
    with translation.override(user.language or settings.LANGUAGE_CODE):
        context = {
            **context,
            "user": user,
            "PORTAL_NAME": settings.PORTAL_NAME,
            "SUPPORT_PHONE": settings.SUPPORT_PHONE,
            "RULES": rule_numbers(),
        }
        subject = render_to_string(f"emails/{template}.subject.txt", context).strip()
        text = render_to_string(f"emails/{template}.txt", context)
        # In HTML the number is a tap-to-call link, as on the pages.
        html = render_to_string(
            f"emails/{template}.html", {**context, "SUPPORT_PHONE": support_phone_link()}
        )
    message = EmailMultiAlternatives(
        subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{subject}",
        body=text,
        to=[user.email],
    )
    message.attach_alternative(html, "text/html")
    ids = {"user": user.pk, "template": template}
    logger.info("Sending an email to a holder", extra=ids)
    try:
        message.send()
    except Exception:
        logger.exception("Email to a holder not sent", extra=ids)
        raise
    logger.info("Email to a holder sent", extra=ids)
