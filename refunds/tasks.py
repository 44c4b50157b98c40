"""Background work, enqueued after commit (django-tasks). Each task is safe to run again:
it locks its row and returns when the work is already done. A card refund's next attempt
is scheduled with `run_after`; `manage.py retry_pending_work` is the safety net that
re-enqueues whatever has not gone through yet (a lost task, a killed worker, an email)."""

import logging
from collections.abc import Callable

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_tasks import task

from portal.db import locked

from .emails import send_holder_email
from .models import Closure, HolderNotice, InactivityNotice

logger = logging.getLogger(__name__)


def holder_email_of(record: Closure | InactivityNotice | HolderNotice) -> dict:
    """The holder, template and context of the email `record` stands for (a closure's
    confirmation, an inactivity notice, or any other notice): `send_holder_email` kwargs."""
    if isinstance(record, Closure):
        return {
            "user": record.account.holder,
            "template": "closure_confirmed",
            "context": {"closure": record},
        }
    if isinstance(record, InactivityNotice):
        from .services.inactivity import inactivity_notice_context

        return {
            "user": record.account.holder,
            "template": "inactivity_notice",
            "context": inactivity_notice_context(record, at=timezone.now()),
        }
    from .services.statements import final_statement_context

    context: dict[str, object] = {"closure": record.closure, "refund": record.refund}
    if record.kind == HolderNotice.Kind.FINAL_STATEMENT:
        statement = record.closure.final_statement
        if statement is None:  # the notice is queued when the final statement is issued
            raise ValueError(f"notice {record.pk}: closure {record.closure_id} has no statement")
        context.update(final_statement_context(statement))
    return {"user": record.user, "template": record.kind, "context": context}


def each_of(ids: list[int], work: Callable[[int], object], what: str) -> None:
    """`work(pk)` for each id of a batch task; one that fails does not hold back the
    others. The first failure is raised once all were tried (the task shows as failed)
    and `retry_pending_work` enqueues whatever did not go through."""
    failed: Exception | None = None
    for pk in ids:
        try:
            work(pk)
        except Exception as exc:
            logger.exception("%s %s failed", what, pk, extra={what: pk})
            failed = failed or exc
    if failed is not None:
        raise failed


def closure_confirmation_email(closure_id: int) -> None:
    """Rule E9: email the closure confirmation once. A failed send leaves
    `confirmation_emailed_at` empty, and `retry_pending_work` tries again."""
    with transaction.atomic():
        closure = locked(Closure.objects.select_related("account__holder"), pk=closure_id)
        if closure.confirmation_emailed_at is not None:
            return
        send_holder_email(**holder_email_of(closure))
        closure.confirmation_emailed_at = timezone.now()
        closure.save(update_fields=["confirmation_emailed_at"])


@task()
def closure_confirmation_send(*, closure_id: int) -> None:
    """Rule E9: the confirmation of one closure (`closure_confirmation_email`)."""
    closure_confirmation_email(closure_id)


@task()
def closure_confirmation_send_many(*, closure_ids: list[int]) -> None:
    """Rule E9: the confirmations of a batch of closures, one task for the batch."""
    each_of(closure_ids, closure_confirmation_email, "closure")


def _inactivity_notice_email(notice_id: int) -> None:
    from .services.inactivity import inactivity_notice_email

    inactivity_notice_email(notice_id=notice_id, at=timezone.now())


@task()
def inactivity_notice_send(*, notice_id: int) -> None:
    """Rule N3: tell a New Mexico holder when their inactive account will be closed."""
    _inactivity_notice_email(notice_id)


@task()
def inactivity_notice_send_many(*, notice_ids: list[int]) -> None:
    """Rule N3: the notices a sweep's batch queued, one task for the batch."""
    each_of(notice_ids, _inactivity_notice_email, "notice")


@task()
def holder_notice_send(*, notice_id: int) -> None:
    """Send one queued email to a holder; a failure is counted and kept for the retry."""
    try:
        with transaction.atomic():
            notice = locked(
                HolderNotice.objects.select_related("user", "closure__account", "refund"),
                pk=notice_id,
            )
            if notice.sent_at is not None:
                return
            send_holder_email(**holder_email_of(notice))
            notice.sent_at = timezone.now()
            notice.save(update_fields=["sent_at"])
    except Exception as exc:
        HolderNotice.objects.filter(pk=notice_id, sent_at__isnull=True).update(
            attempts=F("attempts") + 1, last_error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        raise


@task()
def address_change_link_send(*, change_id: int) -> None:
    """Rule B3: email the holder the link that confirms a new address."""
    from .services.claims import address_change_request_email_link

    address_change_request_email_link(change_id=change_id)


def _card_refund_submit(refund_id: int) -> None:
    from .services.card_refunds import card_refund_submit

    card_refund_submit(refund_id=refund_id)


@task()
def card_refund_submit_task(*, refund_id: int) -> None:
    """Rule E4: one attempt at the card refund; a temporary error schedules the next."""
    _card_refund_submit(refund_id)


@task()
def card_refund_submit_many(*, refund_ids: list[int]) -> None:
    """Rule E4: the first attempt at each card refund of a batch of closures."""
    each_of(refund_ids, _card_refund_submit, "refund")


@task()
def export_file_write(*, run_id: int) -> None:
    """Rule S5.exports: write the file of an export too big for a request, once."""
    from .exporters.files import export_file_write as write

    write(run_id=run_id)
