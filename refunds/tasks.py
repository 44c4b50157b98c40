"""Background work, enqueued after commit. Each task is safe to run again."""

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from .emails import send_holder_email
from .models import Closure


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
