"""Rule B5: the language a holder reads in, picked once and followed on every device."""

from django.conf import settings

# A choice made before signing in, kept in the session until the sign-in stores it.
CHOSEN_BEFORE_SIGN_IN = "language_chosen_before_sign_in"


def offered_language(code: str | None) -> str | None:
    """`code` if the portal offers it (a key of LANGUAGES), else None."""
    return code if code in dict(settings.LANGUAGES) else None


def language_cookie_set(response, language: str) -> None:
    """The cookie LocaleMiddleware reads, set the way Django's `set_language` sets it."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
