from itertools import islice

from django.core.management.base import BaseCommand, CommandError

from refunds.selectors import refunds_not_backed

SHOWN = 100


class Command(BaseCommand):
    help = (
        "Check that every refund is backed by the records (rule S3): an audited creation for "
        "its amount and method, and the amount its closure, or the refund it replaces, "
        "refunds. Run it beside verify_audit_trail, which shows the events are the portal's. "
        f"Exits 1 and lists the first {SHOWN} when any refund is not backed."
    )

    def handle(self, *args, **options):
        problems = refunds_not_backed()
        shown = list(islice(problems, SHOWN))
        if shown:
            more = sum(1 for _ in problems)
            raise CommandError(
                f"{len(shown) + more} refund(s) not backed by the records:\n- "
                + "\n- ".join(f"refund {p.refund_id} ({p.reference}): {p.problem}" for p in shown)
                + (f"\n... and {more} more" if more else "")
            )
        self.stdout.write(self.style.SUCCESS("Every refund is backed by the records."))
