from portal.management.sweep import SweepCommand
from refunds.services.erasure import identities_erase


class Command(SweepCommand):
    help = "Daily: erase sign-in identities 90 days after the money is final (rule B7)."

    def handle(self, *args, **options):
        records = identities_erase()
        self.stdout.write(f"Erased the sign-in identity of {len(records)} account(s).")
