from django.core.management.base import BaseCommand

from refunds.models import Closure
from refunds.tasks import closure_confirmation_send


class Command(BaseCommand):
    help = "Retry closure confirmation emails that have not gone out yet (rule E9)."

    def handle(self, *args, **options):
        pending = Closure.objects.filter(confirmation_emailed_at__isnull=True)
        count = 0
        for closure_id in pending.values_list("id", flat=True).iterator():
            closure_confirmation_send.enqueue(closure_id=closure_id)
            count += 1
        self.stdout.write(f"Enqueued {count} confirmation email(s).")
