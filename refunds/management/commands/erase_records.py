from portal.management.sweep import SweepCommand
from refunds.services.erasure import records_erase


class Command(SweepCommand):
    help = "Daily: erase names and addresses at the end of the records retention (rule B7)."

    def handle(self, *args, **options):
        records = records_erase()
        self.stdout.write(f"Erased names and addresses of {len(records)} account(s).")
