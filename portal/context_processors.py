from django.conf import settings

from .display import support_phone_link


def portal(request):
    """The portal's name and support number, for every template. `SUPPORT_PHONE` is the
    tap-to-call link (pages); `SUPPORT_PHONE_NUMBER` the bare number (attributes)."""
    return {
        "PORTAL_NAME": settings.PORTAL_NAME,
        "SUPPORT_PHONE": support_phone_link(),
        "SUPPORT_PHONE_NUMBER": settings.SUPPORT_PHONE,
    }
