from django.core.management.base import BaseCommand

from accounts.demo import demo_totp_code


class Command(BaseCommand):
    help = "Print the current two-factor code of the demo staff (their shared TOTP secret)."

    def handle(self, *args, **options):
        self.stdout.write(demo_totp_code())
