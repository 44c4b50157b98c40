from portal.management.sweep import SweepCommand
from refunds.services.inactivity import inactive_accounts_close, inactivity_notices_send


class Command(SweepCommand):
    help = (
        "Daily: email New Mexico holders 30 and 7 days before their inactive account is "
        "closed, and close those whose 180 days have run out (rules N1-N3, N6). "
        "Safe to run twice or on two hosts at once."
    )

    def handle(self, *args, **options):
        notices = inactivity_notices_send()
        closures = inactive_accounts_close()
        self.stdout.write(
            f"Sent {len(notices)} inactivity notice(s); closed {len(closures)} account(s)."
        )
