"""Emails to holders about their refunds and bills, queued with the event (E9, §6)."""

import datetime as dt

from django.db import transaction

from ..models import Closure, HolderNotice, Refund


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
