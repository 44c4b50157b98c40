from django.conf import settings


def portal(request):
    """The portal's name and support number, for every template."""
    return {"PORTAL_NAME": settings.PORTAL_NAME, "SUPPORT_PHONE": settings.SUPPORT_PHONE}
