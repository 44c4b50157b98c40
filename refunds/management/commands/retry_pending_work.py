from django.conf import settings
from django.core.management.base import BaseCommand
from django.db.models import F
from django.utils import timezone

from accounts.models import CustomerAccount
from refunds.models import (
    AddressChangeRequest,
    Closure,
    ExportRun,
    HolderNotice,
    InactivityNotice,
)
from refunds.services.card_refunds import card_refunds_due
from refunds.tasks import (
    address_change_link_send,
    card_refund_submit_task,
    closure_confirmation_send,
    export_file_write,
    holder_notice_send,
    inactivity_notice_send,
)


class Command(BaseCommand):
    help = (
        "Every few minutes, the safety net: enqueue again the work that has not gone "
        "through: card refunds due for (another) submission whose scheduled task was lost "
        "(or whose worker died), emails not yet sent (rule E9) and export files still "
        "queued (SPEC §5). Each task locks its row and does nothing if the work is "
        "already done."
    )

    def handle(self, *args, **options):
        now = timezone.now()
        counts = {
            "card refund(s)": self._enqueue(
                card_refund_submit_task, "refund_id", card_refunds_due(now)
            ),
            "closure email(s)": self._enqueue(
                closure_confirmation_send,
                "closure_id",
                Closure.objects.filter(confirmation_emailed_at__isnull=True),
            ),
            "inactivity notice(s)": self._enqueue(
                inactivity_notice_send,
                "notice_id",
                # rule N3: a notice whose period ended with new activity is never sent.
                InactivityNotice.objects.filter(
                    sent_at__isnull=True,
                    channel=InactivityNotice.Channel.EMAIL,
                    inactive_since=F("account__last_activity_at"),
                    account__status=CustomerAccount.Status.OPEN,
                ),
            ),
            "holder email(s)": self._enqueue(
                holder_notice_send,
                "notice_id",
                HolderNotice.objects.filter(
                    sent_at__isnull=True, attempts__lt=settings.HOLDER_EMAIL_MAX_ATTEMPTS
                ),
            ),
            "address confirmation email(s)": self._enqueue(
                address_change_link_send,
                "change_id",
                AddressChangeRequest.objects.filter(
                    status=AddressChangeRequest.Status.AWAITING_CONFIRMATION,
                    emailed_at__isnull=True,
                ).exclude(closure__account__holder__email=""),
            ),
            "export file(s)": self._enqueue(
                export_file_write,
                "run_id",
                ExportRun.objects.filter(status=ExportRun.Status.QUEUED),
            ),
        }
        self.stdout.write(
            "Enqueued " + ", ".join(f"{count} {what}" for what, count in counts.items()) + "."
        )

    def _enqueue(self, task, argument, queryset):
        count = 0
        for pk in queryset.values_list("pk", flat=True).iterator():
            task.enqueue(**{argument: pk})
            count += 1
        return count
