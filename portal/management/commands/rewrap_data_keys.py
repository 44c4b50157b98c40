from django.core.management.base import BaseCommand

from portal.datakeys import data_keys_rewrap


class Command(BaseCommand):
    help = "After a new master key is put first in DATA_KEYS: wrap every data key with it."

    def handle(self, *args, **options):
        self.stdout.write(f"Rewrapped {data_keys_rewrap()} data key(s).")
