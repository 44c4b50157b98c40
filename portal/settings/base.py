"""Settings shared by every environment; each value can come from the environment."""

from pathlib import Path
from typing import Any

import environ
from django.contrib.messages import constants as messages

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

# The business's numbers with their rule ids (issue 12): one module, read by code and pages.
from .business import *  # noqa: E402, F403

SECRET_KEY = env("SECRET_KEY", default="insecure-dev-key-change-me-in-production-0123456789")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "crispy_forms",
    "crispy_bootstrap5",
    "localflavor",
    "phonenumber_field",
    "django_object_actions",
    "rangefilter",
    "django_tasks",
    "django_tasks_db",
    "portal",
    "accounts",
    "refunds",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "accounts.middleware.BackOfficeInEnglishMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # unreadable input refused before any view; idle and absolute sign-in limits
    "portal.middleware.RefuseNulMiddleware",
    "accounts.middleware.SessionLimitsMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.StaffMFARequiredMiddleware",
    # staff read times in the business time zone
    "portal.middleware.AdminBusinessTimeZoneMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    # no caching of personal answers
    "portal.middleware.NoStoreMiddleware",
    # a service's refusal ("refused, nothing changed") is a message, never a 500
    "portal.middleware.RefusedMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "portal.context_processors.portal",
                "accounts.context_processors.settings_section",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# --- database connections (issue 13): reused across requests for CONN_MAX_AGE seconds (a new
# PostgreSQL connection per request costs several times a small page), checked before reuse
# so a restarted database costs one failed check, not a 500. 0 closes after each request.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# allauth keeps its rate-limit counters in the cache, so it must be shared by every process.
CACHES = {
    "default": env.cache("CACHE_URL", default="dbcache://portal_cache"),
}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_REDIRECT_URL = "accounts:my_account"
LOGIN_URL = "account_login"

# --- allauth ---
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Account portal] "
ACCOUNT_RATE_LIMITS = {
    "login_failed": "5/5m/ip,5/5m/key",
    "login": "30/m/ip",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reauthenticate": "10/m/user",
    "confirm_email": "1/3m/key",
    # rules B2, B3: the portal's own public pages (portal/settings/business.py).
    "refund_status": REFUND_STATUS_RATE_LIMIT,  # noqa: F405
    "refund_claim": REFUND_CLAIM_RATE_LIMIT,  # noqa: F405
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Account portal"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- languages (rule B5: every holder-facing page and email in English and Spanish) ---
# Each language is named in itself, so a reader finds theirs whatever the page language.
LANGUAGE_CODE = "en-us"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_SAMESITE = "Lax"
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

# --- the business: where days are counted and what people are told ---
BUSINESS_TIME_ZONE = env("BUSINESS_TIME_ZONE", default="America/Chicago")
SUPPORT_PHONE = env("SUPPORT_PHONE", default="1-800-844-6591")
PORTAL_NAME = env("PORTAL_NAME", default="Account portal")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Account portal <no-reply@portal.test>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# A strict Content-Security-Policy: nothing inline, nothing from elsewhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    },
}

TASKS = {
    "default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
    }
}

# --- logging: one logger per module (`logging.getLogger(__name__)`); LOG_FORMAT picks plain
# lines (development) or one JSON object per line (production's default), where the ids a
# log call passes in `extra` (refund, account, idempotency_key...) become fields ---
LOG_FORMAT = env("LOG_FORMAT", default="plain")
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

# --- /health/ (portal.health): failing when a database task has been ready to run for
# longer than this, i.e. no db_worker keeps up ---
TASK_BACKLOG_MAX_MINUTES = env.int("TASK_BACKLOG_MAX_MINUTES", default=15)

# --- audit trail (SPEC §5): keyed hashes, a seal chain, checkpoints outside the database ---
# "key-id:secret" pairs, comma-separated; the first signs new entries and checkpoints, the
# others still verify older ones (rotation). The default is a fixed, public dev/test key:
# production requires its own (portal.settings.prod), never stored in the database.
AUDIT_HMAC_KEYS = env("AUDIT_HMAC_KEYS", default="dev:not-a-secret-dev-and-test-audit-key")
# Where `write_audit_checkpoint` writes the signed head of the chain: not reachable with
# the database login (another disk, host or a write-once bucket mount in production).
AUDIT_CHECKPOINT_DIR = env.path(
    "AUDIT_CHECKPOINT_DIR", default=BASE_DIR / "var" / "audit-checkpoints"
)
# `verify_audit_trail` reports a latest checkpoint older than this (cron writes one daily).
AUDIT_CHECKPOINT_MAX_AGE_HOURS = env.int("AUDIT_CHECKPOINT_MAX_AGE_HOURS", default=26)
# `verify_audit_trail` reports events unsealed for longer than this: `seal_audit_trail`
# seals them within a second while it runs.
AUDIT_SEAL_MAX_DELAY_SECONDS = env.int("AUDIT_SEAL_MAX_DELAY_SECONDS", default=300)

# --- export files (SPEC §5, issue 13): the files background exports write, readable only
# by the portal (never under STATIC_ROOT or a media URL); downloaded through the back office
# by the auditor who asked ---
EXPORT_FILES_DIR = env.path("EXPORT_FILES_DIR", default=BASE_DIR / "var" / "exports")

# --- demo data: `manage.py seed_demo` makes users with a published password and TOTP
# secret, so only settings that say so allow it (dev, test); production never does ---
DEMO_DATA_ALLOWED = False

# --- the client's real address behind a proxy; links in emails (issue 9) ---
# Sign-in lockouts and the portal's own rate limits count the visitor, not the proxy:
# allauth reads the client IP from the right of X-Forwarded-For, skipping this many
# proxies of ours (0: no proxy, the header is ignored), or from one header that the
# proxy sets and the visitor cannot (e.g. X-Real-IP, CF-Connecting-IP).
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = env("TRUSTED_CLIENT_IP_HEADER", default=None)
# Links in emails are built on this, never on the request's Host header.
PORTAL_URL = env("PORTAL_URL", default="http://127.0.0.1:8000")

# --- hardening (issue 9): unreadable input refused, no caching of personal answers,
# browser features denied, and how long a sign-in lasts ---
# The portal needs no device or sensor, and takes no payment through the browser.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "ambient-light-sensor",
        "autoplay",
        "bluetooth",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}
# Staff: 30 minutes idle; holders: 15 (shared family phones, and a session can redirect
# a refund check); everyone: 12 hours in all (accounts.middleware.SessionLimitsMiddleware).
STAFF_SESSION_IDLE_SECONDS = 30 * 60
HOLDER_SESSION_IDLE_SECONDS = 15 * 60
SESSION_ABSOLUTE_SECONDS = 12 * 60 * 60
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_SECONDS

# --- one way to do each thing (issue 12): Bootstrap's alert classes by message level ---
MESSAGE_TAGS = {messages.ERROR: "danger"}

# --- bank files (rule B8, issue 14): Positive Pay issue files, BAI2 paid items, NAUPA ---
# The refund checks' bank account, and the layout its bank takes
# (refunds/bank_files/positive_pay.py: fixed_100 or issue_void_csv).
POSITIVE_PAY_ACCOUNT_NUMBER = env("POSITIVE_PAY_ACCOUNT_NUMBER", default="000123456789")
POSITIVE_PAY_ROUTING_NUMBER = env("POSITIVE_PAY_ROUTING_NUMBER", default="011000015")
POSITIVE_PAY_LAYOUT = env("POSITIVE_PAY_LAYOUT", default="fixed_100")
# Who reports unclaimed property (the NAUPA holder record).
UNCLAIMED_PROPERTY_HOLDER = {
    "tax_id": env("HOLDER_TAX_ID", default="000000000"),
    "name": env("HOLDER_NAME", default="Account portal refunds"),
    "city": env("HOLDER_CITY", default="Dallas"),
    "state": env("HOLDER_STATE", default="TX"),
    "contact_name": env("HOLDER_CONTACT_NAME", default="Refund operations"),
    "contact_address": env("HOLDER_CONTACT_ADDRESS", default="PO Box 1000"),
    "contact_city": env("HOLDER_CONTACT_CITY", default="Dallas"),
    "contact_state": env("HOLDER_CONTACT_STATE", default="TX"),
    "contact_zip": env("HOLDER_CONTACT_ZIP", default="75201"),
    "contact_phone": env("HOLDER_CONTACT_PHONE", default="8008446591"),
}
# The dashboard shows held funds this many days before their disposition date, which is
# this many days after they were first held (3 years: the usual dormancy of a refund due).
HELD_FUNDS_DISPOSITION_DAYS = env.int("HELD_FUNDS_DISPOSITION_DAYS", default=3 * 365)
HELD_FUNDS_NEARING_DAYS = env.int("HELD_FUNDS_NEARING_DAYS", default=120)

# --- erasure (rule B7): personal data goes once the money no longer needs it ---
# Master keys that wrap each holder's data keys, "key-id:secret" pairs, current first (the
# others still unwrap older keys until `rewrap_data_keys` has run). The default is a fixed,
# public dev/test key: production requires its own (portal.settings.prod).
DATA_KEYS = env("DATA_KEYS", default="dev:not-a-secret-dev-and-test-data-key")
# The sign-in identity goes this many days after the money is final...
ERASURE_IDENTITY_AFTER_DAYS = env.int("ERASURE_IDENTITY_AFTER_DAYS", default=90)
# ...names and addresses on records at the end of the records retention period.
RECORDS_RETENTION_YEARS = env.int("RECORDS_RETENTION_YEARS", default=7)

# --- phone numbers (issue 12): stored as E.164, shown and typed in US national format ---
PHONENUMBER_DEFAULT_REGION = "US"
PHONENUMBER_DB_FORMAT = "E164"
PHONENUMBER_DEFAULT_FORMAT = "NATIONAL"
