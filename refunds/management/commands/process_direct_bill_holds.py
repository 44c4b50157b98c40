from portal.management.sweep import SweepCommand
from refunds.services.sweeps import direct_bill_holds_process, statements_mark_past_due


class Command(SweepCommand):
    help = (
        "Daily: settle Direct Bill closures whose 7-10 day hold has passed (final statement "
        "or no invoice, rule E5) and mark unpaid statements past due (SPEC §4)."
    )

    def handle(self, *args, **options):
        closures = direct_bill_holds_process()
        statements = statements_mark_past_due()
        self.stdout.write(
            f"Settled {len(closures)} Direct Bill closure(s); "
            f"{len(statements)} statement(s) now past due."
        )
