from django.core.management.base import BaseCommand, CommandError

from portal.audit import audit_verify_chain


class Command(BaseCommand):
    help = "Check that no audit trail entry was changed or removed (SPEC §5: tamper-evident)."

    def handle(self, *args, **options):
        report = audit_verify_chain()
        if not report.intact:
            raise CommandError(
                f"Audit trail broken at event {report.broken_at} "
                f"(entry {report.events} in order): it {report.problem}."
            )
        self.stdout.write(self.style.SUCCESS(f"Audit trail intact, {report.events} events."))
