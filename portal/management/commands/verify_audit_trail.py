from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from portal.audit import audit_verify


class Command(BaseCommand):
    help = (
        "Check the audit trail's keyed hashes and seal chain and hold them against the latest "
        "checkpoint (SPEC §5): reports a rewritten, removed or added event, a recomputed "
        "chain, seals cut from the end, events the sealer left unsealed too long, and a "
        "missing, altered or stale checkpoint. Writes nothing. Exits 1 when anything is "
        "wrong."
    )

    def handle(self, *args, **options):
        report = audit_verify(now=timezone.now())
        if not report.intact:
            raise CommandError(
                f"Audit trail NOT intact ({report.events} events):\n- "
                + "\n- ".join(report.problems)
            )
        checkpoint = report.checkpoint
        if checkpoint is None:  # a trail is intact only when held against a checkpoint
            raise CommandError("Audit trail NOT intact: no checkpoint to hold it against.")
        awaiting = f" ({report.unsealed} awaiting the sealer)" if report.unsealed else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit trail intact, {report.events} events{awaiting}; checkpoint "
                f"{checkpoint.name} ({checkpoint.head.events} events) holds."
            )
        )
