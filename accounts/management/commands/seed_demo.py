from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET, seed_people


class Command(BaseCommand):
    help = "Load the demo holders and staff. Safe to run again: nothing is duplicated."

    def handle(self, *args, **options):
        with transaction.atomic():
            holders, staff = seed_people()
        self.stdout.write(self.style.SUCCESS("Demo data ready on http://127.0.0.1:8000"))
        self.stdout.write(f"Password for every demo user: {DEMO_PASSWORD}")
        self.stdout.write("Holders: " + ", ".join(holders))
        self.stdout.write("Staff:   " + ", ".join(staff))
        self.stdout.write(f"Staff TOTP secret (add it to an authenticator app): {DEMO_TOTP_SECRET}")
