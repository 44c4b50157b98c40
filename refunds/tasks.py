"""Background work, enqueued after commit. Each task is safe to run again."""

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from .emails import send_holder_email
from .models import Closure, InactivityNotice


@task()
def closure_confirmation_send(*, closure_id: int) -> None:
    """Rule E9: email the closure confirmation once. A failed send leaves
    `confirmation_emailed_at` empty, and `send_pending_emails` tries again."""
    with transaction.atomic():
        closure = (
            Closure.objects.select_for_update().select_related("account__holder").get(pk=closure_id)
        )
        if closure.confirmation_emailed_at is not None:
            return
        refunds = list(closure.refunds.all())
        send_holder_email(
            user=closure.account.holder,
            template="closure_confirmed",
            context={"closure": closure, "refunds": refunds},
        )
        closure.confirmation_emailed_at = timezone.now()
        closure.save(update_fields=["confirmation_emailed_at"])


@task()
def inactivity_notice_send(*, notice_id: int) -> None:
    """Rule N3: tell a New Mexico holder when their inactive account will be closed."""
    with transaction.atomic():
        notice = (
            InactivityNotice.objects.select_for_update()
            .select_related("account__holder")
            .get(pk=notice_id)
        )
        if notice.sent_at is not None:
            return
        send_holder_email(
            user=notice.account.holder,
            template="inactivity_notice",
            context={"notice": notice, "account": notice.account},
        )
        notice.sent_at = timezone.now()
        notice.save(update_fields=["sent_at"])
