"""Compile every `locale/<lang>/LC_MESSAGES/*.po` into the `.mo` Django reads.

`compilemessages` needs GNU gettext's msgfmt; polib does the same in Python, so a
fresh clone serves Spanish after `make install` with nothing else installed (rule B5)."""

from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand


def catalogues() -> list[Path]:
    return sorted(p for folder in settings.LOCALE_PATHS for p in Path(folder).glob("*/*/*.po"))


class Command(BaseCommand):
    help = "Compile the translation catalogues (.po) into .mo files, without gettext."

    def handle(self, *args, **options):
        for po_path in catalogues():
            polib.pofile(str(po_path)).save_as_mofile(str(po_path.with_suffix(".mo")))
            self.stdout.write(f"compiled {po_path}")
