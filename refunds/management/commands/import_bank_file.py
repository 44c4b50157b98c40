from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from portal.actors import Actor, SystemActor
from refunds.services.bank_files import BankFileRefused, bank_file_import


class Command(BaseCommand):
    help = (
        "Import the bank's BAI2 paid-items file: checks paid with their exact number and "
        "amount are marked cashed; the rest are listed as exceptions to decide (rule B8). "
        "The same file twice changes nothing; a damaged file is refused whole."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--by", metavar="EMAIL", help="the staff member importing it (for the audit trail)"
        )

    def handle(self, *args, path: Path, by=None, **options):
        actor: Actor = SystemActor("import_bank_file")
        if by:
            staff = User.objects.filter(email__iexact=by, is_staff=True).first()
            if staff is None:
                raise CommandError(f"No staff member has the email {by}.")
            actor = staff
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc
        try:
            bank_file, created = bank_file_import(content=content, filename=path.name, actor=actor)
        except BankFileRefused as exc:
            raise CommandError(f"Refused, nothing was applied: {exc}") from exc
        if not created:
            self.stdout.write(
                f"{path.name} was already imported on {bank_file.imported_at:%Y-%m-%d %H:%M} UTC; "
                "nothing was changed."
            )
            return
        self.stdout.write(
            f"{path.name}: {bank_file.paid_count} checks paid, {bank_file.cleared_count} "
            f"cleared, {bank_file.exception_count} exceptions to decide."
        )
