from django.core.management.base import BaseCommand

from refunds.exporters.files import exports_purge


class Command(BaseCommand):
    help = (
        "Hourly: delete the files of background exports past their expiry "
        "(EXPORT_FILE_EXPIRY_HOURS) and mark them expired (SPEC §5)."
    )

    def handle(self, *args, **options):
        purged = exports_purge()
        self.stdout.write(f"Purged {len(purged)} export file(s).")
