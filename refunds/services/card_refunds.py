"""Card refunds to the processor (rule E4, SPEC §3): submitted once, retried with
backoff on temporary errors, replaced by a check when the card refuses."""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from portal.actors import SYSTEM
from portal.db import locked

from ..gateway import CardGatewayUnavailable, CardRefundDeclined, get_card_gateway
from ..models import HolderNotice, Refund
from .held_funds import held_funds_from_refund
from .notices import holder_notice_queue
from .transitions import card_refund_fail, card_refund_mark_submitted


def retry_delay(attempts: int) -> dt.timedelta:
    """5 min, 15 min, 45 min, ... capped at 6 hours (settings `CARD_REFUND_*`)."""
    first = dt.timedelta(minutes=settings.CARD_REFUND_FIRST_RETRY_MINUTES)
    longest = dt.timedelta(hours=settings.CARD_REFUND_LONGEST_RETRY_HOURS)
    return min(first * 3 ** (attempts - 1), longest)


def card_refund_submit(*, refund_id: int, now: dt.datetime | None = None) -> Refund:
    """Send a pending card refund to the processor, exactly once.

    The refund row is locked for the call and the processor is given the refund's id
    as idempotency key: a worker that dies after the processor answered leaves the
    refund pending, and the next attempt gets the same answer back, not a second refund.
    """
    now = now or timezone.now()
    with transaction.atomic():
        refund = locked(Refund, pk=refund_id)
        if refund.method != Refund.Method.CARD or refund.status != Refund.Status.PENDING:
            return refund
        if refund.next_attempt_at is not None and refund.next_attempt_at > now:
            return refund
        try:
            result = get_card_gateway().refund(
                idempotency_key=f"refund-{refund.pk}",
                card_token=refund.card_token,
                amount_cents=refund.amount_cents,
            )
        except CardRefundDeclined as exc:
            # SPEC §3: failed (why) → a refund check to the address on record.
            check = card_refund_fail(refund=refund, actor=SYSTEM, reason=str(exc), at=now)
            if not check.address_line1:
                # rule N4: no deliverable address on record, so the money is held.
                held_funds_from_refund(
                    refund=check,
                    actor=SYSTEM,
                    reason=f"No deliverable address on record after the card refund failed "
                    f"({exc}).",
                    at=now,
                )
            refund.refresh_from_db()
            return refund
        except CardGatewayUnavailable as exc:
            refund.submit_attempts += 1
            refund.last_error = str(exc)
            if refund.submit_attempts >= settings.CARD_REFUND_MAX_ATTEMPTS:
                refund.next_attempt_at = None
                refund.needs_review = True  # staff see it among refunds needing review
            else:
                refund.next_attempt_at = now + retry_delay(refund.submit_attempts)
            refund.save(
                update_fields=["submit_attempts", "last_error", "next_attempt_at", "needs_review"]
            )
            return refund
        refund = card_refund_mark_submitted(
            refund=refund,
            actor=SYSTEM,
            processor_reference=result.processor_reference,
            at=now,
        )
        holder_notice_queue(
            kind=HolderNotice.Kind.CARD_REFUND_SENT,
            key=f"card_refund_sent:{refund.pk}",
            closure=refund.closure,
            refund=refund,
            at=now,
        )
    return refund


def card_refunds_due(now: dt.datetime):
    """Pending card refunds whose next attempt is due (or never tried)."""
    return Refund.objects.filter(
        method=Refund.Method.CARD, status=Refund.Status.PENDING, needs_review=False
    ).exclude(next_attempt_at__gt=now)
