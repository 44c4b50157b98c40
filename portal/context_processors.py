from django.conf import settings

from .display import support_phone_link


def rule_numbers() -> dict:
    """The business's numbers a holder reads (portal/settings/business.py), by the names
    templates use: `{{ RULES.statement_due_days }}`. Pages get them from `portal` below,
    emails from `refunds.emails.send_holder_email`."""
    return {
        "recent_calls_hours": settings.RECENT_CALLS_HOURS,
        "card_refund_business_days": settings.CARD_REFUND_BUSINESS_DAYS,
        "check_mailed_within_days": settings.CHECK_MAILED_WITHIN_DAYS,
        "direct_bill_hold_from_days": settings.DIRECT_BILL_HOLD_FROM_DAYS,
        "direct_bill_hold_until_days": settings.DIRECT_BILL_HOLD_UNTIL_DAYS,
        "statement_due_days": settings.FINAL_STATEMENT_DUE_DAYS,
        "inactivity_days": settings.INACTIVITY_DAYS,
        "first_notice_days": settings.INACTIVITY_FIRST_NOTICE_DAYS,
        "final_notice_days": settings.INACTIVITY_FINAL_NOTICE_DAYS,
        "stale_check_days": settings.STALE_CHECK_DAYS,
        "address_link_hours": settings.ADDRESS_CHANGE_LINK_VALID_HOURS,
    }


def portal(request):
    """The portal's name, support number and business numbers, for every template.
    `SUPPORT_PHONE` is the tap-to-call link (pages); `SUPPORT_PHONE_NUMBER` the bare
    number (attributes)."""
    return {
        "PORTAL_NAME": settings.PORTAL_NAME,
        "SUPPORT_PHONE": support_phone_link(),
        "SUPPORT_PHONE_NUMBER": settings.SUPPORT_PHONE,
        "RULES": rule_numbers(),
    }
