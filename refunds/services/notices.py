"""Emails to holders about their refunds and bills, queued with the event (E9, §6)."""

import datetime as dt

from django.conf import settings
from django.db import transaction

from portal.actors import Actor
from portal.audit import AuditAction, audit_record
from portal.errors import Refused

from ..emails import send_holder_email
from ..models import Closure, HolderNotice, InactivityNotice, Refund


class NotSentYet(Refused):
    """The email has not gone out yet: `retry_pending_work` sends it, not a resend."""


def holder_notice_queue(
    *, kind: str, key: str, closure: Closure, at: dt.datetime, refund: Refund | None = None
) -> HolderNotice:
    """Record that the holder must be told about an event, once per `key`, and send it
    after commit. Call inside the event's transaction: no event, no email."""
    from ..tasks import holder_notice_send

    notice, created = HolderNotice.objects.get_or_create(
        key=key,
        defaults={
            "kind": kind,
            "user": closure.account.holder,
            "closure": closure,
            "refund": refund,
            "created_at": at,
        },
    )
    if created:
        transaction.on_commit(lambda: holder_notice_send.enqueue(notice_id=notice.pk))
    return notice


def holder_email_resend(
    *, record: Closure | InactivityNotice | HolderNotice, actor: Actor, at: dt.datetime
) -> None:
    """Rule B5: staff send an email to a holder again (a closure's confirmation, an
    inactivity notice or any other notice), in the holder's language as it is now."""
    from ..tasks import holder_email_of

    sent_at = record.confirmation_emailed_at if isinstance(record, Closure) else record.sent_at
    if sent_at is None:
        raise NotSentYet(f"{record} has not been sent yet; the retry job will send it.")
    email = holder_email_of(record)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=AuditAction.EMAIL_RESENT,
            target=record,
            after={
                "template": email["template"],
                "language": email["user"].language or settings.LANGUAGE_CODE,
            },
            at=at,
        )
        send_holder_email(**email)
