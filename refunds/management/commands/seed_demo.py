from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.demo import (
    DEMO_PASSWORD,
    DEMO_TOTP_SECRET,
    seed_accounts,
    seed_people,
    seed_random_holders,
)
from refunds.roles import assign_demo_roles


class Command(BaseCommand):
    help = (
        "Load the demo holders and staff (in their back-office roles). Safe to run again: "
        "nothing is duplicated."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--holders",
            type=int,
            default=0,
            help="Also make this many extra holders with random accounts (default 0).",
        )

    def handle(self, *args, **options):
        now = timezone.now()
        with transaction.atomic():
            holders, staff = seed_people()
            assign_demo_roles()
            seed_accounts(holders, now=now)
            extra = seed_random_holders(options["holders"], now=now)
        self.stdout.write(self.style.SUCCESS("Demo data ready on http://127.0.0.1:8000"))
        self.stdout.write(f"Password for every demo user: {DEMO_PASSWORD}")
        self.stdout.write("Holders: " + ", ".join(holders))
        self.stdout.write("Staff:   " + ", ".join(staff))
        self.stdout.write(f"Staff TOTP secret (add it to an authenticator app): {DEMO_TOTP_SECRET}")
        if options["holders"]:
            self.stdout.write(
                f"Extra holders: {options['holders']} (holder00001@demo.test on; {extra} new)"
            )
