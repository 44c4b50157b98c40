from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from portal.audit import AuditTrailBroken, audit_checkpoint_write


class Command(BaseCommand):
    help = (
        "Seal the audit events awaiting the sealer, then sign the seal chain's head (last "
        "seal, its hash, the events it covers, time) into a checkpoint file in "
        "AUDIT_CHECKPOINT_DIR and the log, outside the database (SPEC §5). Run by cron and "
        "after each daily sweep. Refuses when the trail since the last checkpoint does not "
        "verify."
    )

    def handle(self, *args, **options):
        try:
            checkpoint = audit_checkpoint_write(at=timezone.now())
        except AuditTrailBroken as broken:
            raise CommandError(
                "No checkpoint written; the audit trail does not verify:\n- "
                + "\n- ".join(broken.problems)
            ) from broken
        self.stdout.write(
            f"Audit checkpoint {checkpoint.name}: {checkpoint.head.events} events up to "
            f"event {checkpoint.head.last_event_id} (seal {checkpoint.head.last_id})."
        )
