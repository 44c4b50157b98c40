from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.demo import (
    DEMO_PASSWORD,
    DEMO_TOTP_SECRET,
    seed_accounts,
    seed_people,
    seed_random_holders,
)
from portal.audit import audit_checkpoint_write
from refunds.demo import (
    CLOSED_HOLDERS,
    RETURNED_CHECK_LAST_NAME,
    RETURNED_CHECK_REFERENCE,
    RETURNED_CHECK_ZIP,
    seed_closed_accounts,
    seed_inactivity_notices,
)
from refunds.roles import assign_demo_roles

FILE_EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"


class Command(BaseCommand):
    help = (
        "Load the demo holders and staff (in their back-office roles) and the closed "
        "accounts with refunds, statements and held funds. Safe to run again: an existing "
        "demo is left as it is. Refused under production settings."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--holders",
            type=int,
            default=0,
            help="Also make this many extra holders with random accounts (default 0).",
        )

    def handle(self, *args, **options):
        # The demo users share a published password and TOTP secret: never in production.
        if not settings.DEMO_DATA_ALLOWED:
            raise CommandError(
                f"seed_demo refuses to run under {settings.SETTINGS_MODULE}: these settings "
                "do not allow demo data (its users share a published password and TOTP "
                "secret). Nothing was written."
            )
        now = timezone.now()
        with transaction.atomic():
            holders, staff = seed_people()
            assign_demo_roles()
            if "nm@demo.test" in seed_accounts(holders, now=now):
                seed_inactivity_notices(now=now)
            seed_closed_accounts(clerk=staff["refunds@demo.test"], now=now)
            extra = seed_random_holders(options["holders"], now=now)
        # SPEC §5: the demo's trail is anchored like any other, so verify_audit_trail holds.
        audit_checkpoint_write(at=timezone.now())
        self._report(holders, staff, options["holders"], extra)

    def _report(self, holders, staff, holders_asked, extra):
        write = self.stdout.write
        write(self.style.SUCCESS("Demo data ready."))
        write(f"Password for every demo user: {DEMO_PASSWORD}")
        write("Holders: " + ", ".join(holders))
        write("Staff:   " + ", ".join(staff))
        write(f"Staff TOTP secret (add it to an authenticator app): {DEMO_TOTP_SECRET}")
        write("  the current code: python manage.py demo_totp_code")
        write(f"Closed accounts (they cannot sign in): {len(CLOSED_HOLDERS)}, in the back office")
        write(
            "Refund status without signing in (/refund-status/), returned@demo.test's "
            f"check came back: reference {RETURNED_CHECK_REFERENCE}, "
            f"ZIP {RETURNED_CHECK_ZIP}, last name {RETURNED_CHECK_LAST_NAME}"
        )
        if settings.EMAIL_BACKEND == FILE_EMAIL_BACKEND:
            # The stubs read portal.settings.test; EMAIL_FILE_PATH is set in portal.settings.dev.
            path = settings.EMAIL_FILE_PATH  # type: ignore[misc]
            write(f"Emails to demo users are written to {path}/")
        if holders_asked:
            write(f"Extra holders: {holders_asked} (holder00001@demo.test on; {extra} new)")
