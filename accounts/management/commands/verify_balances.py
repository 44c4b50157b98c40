from django.core.management.base import BaseCommand, CommandError

from accounts.selectors import advance_connect_balance_mismatches
from portal.money import cents_to_decimal


class Command(BaseCommand):
    help = (
        "Recompute every AdvanceConnect balance from its ledger and compare it with the "
        "balance kept on the account (SPEC §0). Exits 1 when any account disagrees."
    )

    def handle(self, *args, **options):
        mismatches = advance_connect_balance_mismatches()
        if mismatches:
            raise CommandError(
                f"{len(mismatches)} AdvanceConnect balance(s) disagree with the ledger:\n- "
                + "\n- ".join(
                    f"account {m.account_number}: kept balance ${cents_to_decimal(m.kept[0])}, "
                    f"unsettled ${cents_to_decimal(m.kept[1])} ({m.kept[2]} calls); "
                    f"ledger balance ${cents_to_decimal(m.ledger[0])}, "
                    f"unsettled ${cents_to_decimal(m.ledger[1])} ({m.ledger[2]} calls)"
                    for m in mismatches
                )
            )
        self.stdout.write(
            self.style.SUCCESS("Every AdvanceConnect balance agrees with its ledger.")
        )
