"""Card refunds to the processor (rule E4, SPEC §3): submitted once, retried with
backoff on temporary errors, replaced by a check when the card refuses."""

import datetime as dt

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from ..gateway import CardGatewayUnavailable, CardRefundDeclined, get_card_gateway
from ..models import HolderNotice, Refund
from .held_funds import held_funds_from_refund
from .notices import holder_notice_queue
from .transitions import card_refund_fail, card_refund_mark_submitted

MAX_SUBMIT_ATTEMPTS = 8
FIRST_RETRY = dt.timedelta(minutes=5)
LONGEST_RETRY = dt.timedelta(hours=6)


def retry_delay(attempts: int) -> dt.timedelta:
    """5 min, 15 min, 45 min, ... capped at 6 hours."""
    return min(FIRST_RETRY * 3 ** (attempts - 1), LONGEST_RETRY)


def card_refund_submit(*, refund_id: int, now: dt.datetime | None = None) -> Refund:
    """Send a pending card refund to the processor, exactly once.

    The refund row is locked for the call and the processor is given the refund's id
    as idempotency key: a worker that dies after the processor answered leaves the
    refund pending, and the next attempt gets the same answer back, not a second refund.
    """
    now = now or timezone.now()
    with transaction.atomic():
        refund = Refund.objects.select_for_update(of=("self",)).get(pk=refund_id)
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
            check = card_refund_fail(refund=refund, actor="system", reason=str(exc), at=now)
            if not check.address_line1:
                # rule N4: no deliverable address on record, so the money is held.
                held_funds_from_refund(
                    refund=check,
                    actor="system",
                    reason=f"No deliverable address on record after the card refund failed "
                    f"({exc}).",
                    at=now,
                )
            refund.refresh_from_db()
            return refund
        except CardGatewayUnavailable as exc:
            refund.submit_attempts += 1
            refund.last_error = str(exc)
            if refund.submit_attempts >= MAX_SUBMIT_ATTEMPTS:
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
            actor="system",
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


def card_refunds_due(now: dt.datetime) -> QuerySet[Refund]:
    """Pending card refunds whose next attempt is due (or never tried)."""
    return Refund.objects.filter(
        method=Refund.Method.CARD, status=Refund.Status.PENDING, needs_review=False
    ).exclude(next_attempt_at__gt=now)
