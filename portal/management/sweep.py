"""The daily sweeps' shared shape: after the work, anchor the audit trail outside the
database (SPEC §5), so what the sweep appended is covered by a checkpoint at once."""

from django.core.management import call_command
from django.core.management.base import BaseCommand


class SweepCommand(BaseCommand):
    def execute(self, *args, **options):
        output = super().execute(*args, **options)
        call_command("write_audit_checkpoint", stdout=self.stdout, stderr=self.stderr)
        return output
