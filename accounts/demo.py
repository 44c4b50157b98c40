"""Demo people for `make run` and the browser tests. Never loaded in production."""

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP

from .models import User

DEMO_PASSWORD = "demo-portal-2026"  # noqa: S105 - demo data only
# A fixed TOTP secret so anyone trying the demo can add it to an authenticator app.
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXP"  # noqa: S105 - demo data only

DEMO_HOLDERS = [
    ("card@demo.test", "Carmen", "Diaz"),
    ("check@demo.test", "Charles", "Okafor"),
    ("directbill@demo.test", "Dana", "Brooks"),
    ("video@demo.test", "Vanessa", "Reyes"),
    ("nm@demo.test", "Nora", "Martinez"),
]
DEMO_STAFF = [
    ("support@demo.test", "Sam", "Support", False),
    ("refunds@demo.test", "Rita", "Refunds", False),
    ("auditor@demo.test", "Alex", "Auditor", False),
    ("admin@demo.test", "Ada", "Admin", True),
]


def demo_user(email, first_name, last_name, *, is_staff=False, is_superuser=False):
    """Create (or find) a demo user with a verified email and the demo password."""
    user, created = User.objects.get_or_create(
        email=email,
        defaults={
            "first_name": first_name,
            "last_name": last_name,
            "is_staff": is_staff,
            "is_superuser": is_superuser,
        },
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    EmailAddress.objects.get_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


def enrol_demo_totp(user):
    """Give a demo staff member TOTP with the fixed demo secret, plus recovery codes."""
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, DEMO_TOTP_SECRET)
        RecoveryCodes.activate(user)


def seed_people():
    holders = {email: demo_user(email, first, last) for email, first, last in DEMO_HOLDERS}
    staff = {}
    for email, first, last, superuser in DEMO_STAFF:
        user = demo_user(email, first, last, is_staff=True, is_superuser=superuser)
        enrol_demo_totp(user)
        staff[email] = user
    return holders, staff
