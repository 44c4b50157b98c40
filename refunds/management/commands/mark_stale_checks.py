from portal.management.sweep import SweepCommand
from refunds.services.sweeps import stale_checks_mark


class Command(SweepCommand):
    help = "Daily: refund checks uncashed STALE_CHECK_DAYS after issue become stale (SPEC §3)."

    def handle(self, *args, **options):
        checks = stale_checks_mark()
        self.stdout.write(f"Marked {len(checks)} check(s) stale.")
