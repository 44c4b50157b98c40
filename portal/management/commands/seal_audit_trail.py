import contextlib
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections
from django.utils import timezone

from portal.audit import AuditTrailBroken, audit_seal_pending


class Command(BaseCommand):
    help = (
        "Link the audit events written since the last seal into the seal chain, in id "
        "order (SPEC §5). Runs until stopped, sealing every --every seconds (one process "
        "is enough; a second one finds the first at work and waits its turn); --once "
        "seals once and exits (cron, tests). An event whose hash does not verify is never "
        "sealed: the error is logged each round, and --once exits with status 1."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--every", type=float, default=0.5, help="seconds between rounds (default 0.5)"
        )
        parser.add_argument("--once", action="store_true", help="seal once and exit")

    def handle(self, *args, every, once, **options):
        if once:
            try:
                self._report(audit_seal_pending(at=timezone.now()))
            except AuditTrailBroken as broken:
                raise CommandError(
                    "Nothing sealed; the audit trail does not verify:\n- "
                    + "\n- ".join(broken.problems)
                ) from broken
            return
        while True:
            close_old_connections()
            # A trail that does not verify is logged by the sealer; the next round tries again.
            with contextlib.suppress(AuditTrailBroken):
                audit_seal_pending(at=timezone.now())
            time.sleep(every)

    def _report(self, audit_seal):
        if audit_seal is None:
            self.stdout.write("Nothing to seal.")
        else:
            self.stdout.write(
                f"Audit seal {audit_seal.pk}: {audit_seal.events} events, "
                f"{audit_seal.first_event_id} to {audit_seal.last_event_id}."
            )
