"""Card refunds to the processor (rule E4, SPEC §3): submitted once, retried with
backoff on temporary errors, replaced by a check when the card refuses.

The processor is a network call, so it is made with no transaction open and no row
locked: a slow processor holds up neither the refund's row nor a database connection.
An attempt runs in three steps:

1. claim, in one short transaction: the refund is due, the attempt is counted and this
   worker owns the refund until `next_attempt_at` (the lease); a second worker finds the
   lease and backs off;
2. call the processor with the refund's idempotency key;
3. record the answer, in a second short transaction.

A worker killed between 2 and 3 leaves its lease; once the lease runs out the refund is
due again and the next attempt sends the same key, so the processor answers as it did
the first time and refunds the card once.
"""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from portal.actors import SYSTEM
from portal.audit import AuditAction, audit_record
from portal.db import locked

from ..gateway import CardGatewayUnavailable, CardRefundDeclined, get_card_gateway
from ..models import HolderNotice, Refund
from ..tasks import card_refund_submit_task
from .held_funds import held_funds_from_refund
from .notices import holder_notice_queue
from .transitions import card_refund_fail, card_refund_mark_submitted, refund_void

S = Refund.Status


def retry_delay(attempts: int) -> dt.timedelta:
    """5 min, 15 min, 45 min, ... capped at 6 hours (settings `CARD_REFUND_*`)."""
    first = dt.timedelta(minutes=settings.CARD_REFUND_FIRST_RETRY_MINUTES)
    longest = dt.timedelta(hours=settings.CARD_REFUND_LONGEST_RETRY_HOURS)
    return min(first * 3 ** (attempts - 1), longest)


def submit_lease() -> dt.timedelta:
    """How long an attempt owns the refund (setting `CARD_REFUND_SUBMIT_LEASE_MINUTES`)."""
    return dt.timedelta(minutes=settings.CARD_REFUND_SUBMIT_LEASE_MINUTES)


def card_refund_submit(*, refund_id: int, now: dt.datetime | None = None) -> Refund:
    """Send a pending card refund to the processor, exactly once (see the module's
    docstring). `now` pins the clock of the attempt and of its answer."""
    claimed_at = now or timezone.now()
    refund = _attempt_claim(refund_id=refund_id, at=claimed_at)
    if refund is None:
        return Refund.objects.get(pk=refund_id)
    try:
        result = get_card_gateway().refund(
            idempotency_key=f"refund-{refund.pk}",
            card_token=refund.card_token,
            amount_cents=refund.amount_cents,
        )
    except CardRefundDeclined as exc:
        return _answer_declined(refund_id=refund_id, reason=str(exc), at=now or timezone.now())
    except CardGatewayUnavailable as exc:
        return _answer_unavailable(
            refund_id=refund_id, claimed_at=claimed_at, error=str(exc), at=now or timezone.now()
        )
    return _answer_accepted(
        refund_id=refund_id,
        reference=result.processor_reference,
        at=now or timezone.now(),
    )


def card_refunds_due(now: dt.datetime) -> QuerySet[Refund]:
    """Pending card refunds whose next attempt is due (never tried, retry due, or an
    attempt whose lease ran out without an answer)."""
    return Refund.objects.filter(
        method=Refund.Method.CARD, status=S.PENDING, needs_review=False
    ).exclude(next_attempt_at__gt=now)


def card_refund_schedule(*, refund: Refund) -> None:
    """Enqueue the refund's next attempt to run at `next_attempt_at` (django-tasks
    `run_after`). A backend that cannot defer (the immediate one of development and
    tests) is given nothing: `retry_pending_work` enqueues the refund once it is due."""
    if not card_refund_submit_task.get_backend().supports_defer:
        return
    card_refund_submit_task.using(run_after=refund.next_attempt_at).enqueue(refund_id=refund.pk)


def _lock(refund_id: int) -> Refund:
    return locked(Refund.objects.select_related("closure__account__holder"), pk=refund_id)


def _attempt_claim(*, refund_id: int, at: dt.datetime) -> Refund | None:
    """Step 1: the refund, leased to this attempt; None when it is not due (not a
    pending card refund, a retry not due yet, or another worker's attempt in progress)."""
    with transaction.atomic():
        refund = _lock(refund_id)
        if refund.method != Refund.Method.CARD or refund.status != S.PENDING:
            return None
        if refund.next_attempt_at is not None and refund.next_attempt_at > at:
            return None
        refund.submit_attempts += 1
        refund.submit_claimed_at = at
        refund.next_attempt_at = at + submit_lease()
        refund.save(update_fields=["submit_attempts", "submit_claimed_at", "next_attempt_at"])
    return refund


def _release(refund: Refund) -> None:
    """The processor answered for good: no attempt in progress, none to come."""
    refund.submit_claimed_at = None
    refund.next_attempt_at = None
    refund.save(update_fields=["submit_claimed_at", "next_attempt_at"])


def _answer_accepted(*, refund_id: int, reference: str, at: dt.datetime) -> Refund:
    with transaction.atomic():
        refund = _lock(refund_id)
        _release(refund)
        if refund.status == S.PENDING:
            refund = card_refund_mark_submitted(
                refund=refund, actor=SYSTEM, processor_reference=reference, at=at
            )
            holder_notice_queue(
                kind=HolderNotice.Kind.CARD_REFUND_SENT,
                key=f"card_refund_sent:{refund.pk}",
                closure=refund.closure,
                refund=refund,
                at=at,
            )
        elif refund.processor_reference == reference:
            pass  # this answer is recorded already (a replay)
        elif refund.status == S.FAILED:
            _paid_after_failed(refund=refund, reference=reference, at=at)
        else:
            _flag_contradiction(
                refund=refund,
                note=f"The card processor answered with reference {reference}, not the "
                f"{refund.processor_reference} recorded.",
                at=at,
            )
    return refund


def _answer_declined(*, refund_id: int, reason: str, at: dt.datetime) -> Refund:
    with transaction.atomic():
        refund = _lock(refund_id)
        _release(refund)
        if refund.status == S.PENDING:
            # SPEC §3: failed (why) → a refund check to the address on record.
            check = card_refund_fail(refund=refund, actor=SYSTEM, reason=reason, at=at)
            if not check.address_line1:
                # rule N4: no deliverable address on record, so the money is held.
                held_funds_from_refund(
                    refund=check,
                    actor=SYSTEM,
                    reason=f"No deliverable address on record after the card refund failed "
                    f"({reason}).",
                    at=at,
                )
            refund.refresh_from_db()
        elif refund.status != S.FAILED:
            _flag_contradiction(
                refund=refund,
                note=f"The card processor declined this card refund ({reason}) after it "
                f"was marked {refund.get_status_display().lower()}.",
                at=at,
            )
    return refund


def _answer_unavailable(
    *, refund_id: int, claimed_at: dt.datetime, error: str, at: dt.datetime
) -> Refund:
    """A temporary error: retry with backoff, flagged for staff after the last attempt.
    Nothing is recorded when the refund was answered or taken over meanwhile."""
    with transaction.atomic():
        refund = _lock(refund_id)
        if refund.status != S.PENDING or refund.submit_claimed_at != claimed_at:
            return refund
        refund.submit_claimed_at = None
        refund.last_error = error
        if refund.submit_attempts >= settings.CARD_REFUND_MAX_ATTEMPTS:
            refund.next_attempt_at = None
            refund.needs_review = True  # staff see it among refunds needing review
        else:
            refund.next_attempt_at = at + retry_delay(refund.submit_attempts)
            transaction.on_commit(lambda: card_refund_schedule(refund=refund))
        refund.save(
            update_fields=["submit_claimed_at", "last_error", "next_attempt_at", "needs_review"]
        )
    return refund


def _paid_after_failed(*, refund: Refund, reference: str, at: dt.datetime) -> None:
    """(decision) The processor refunded the card after staff marked the card refund
    failed. SPEC §3: a closure's money is refunded at most once, so the check that
    replaced it is voided while it is still unprinted (pending); once printed it is
    flagged for staff instead. The card refund stays failed, flagged for review."""
    note = (
        f"The card processor refunded the card (reference {reference}) after this card "
        "refund was marked failed."
    )
    replacement = Refund.objects.select_for_update(of=("self",)).filter(replaces=refund).first()
    if replacement is not None and replacement.status == S.PENDING:
        refund_void(
            refund=replacement,
            actor=SYSTEM,
            reason=f"{note} The card got the money, so this check is not needed.",
            at=at,
        )
    elif replacement is not None:
        _flag_contradiction(
            refund=replacement, note=f"{note} Make sure the holder is not paid twice.", at=at
        )
    _flag_contradiction(refund=refund, note=note, at=at, changes={"processor_reference": reference})


def _flag_contradiction(
    *, refund: Refund, note: str, at: dt.datetime, changes: dict | None = None
) -> None:
    """A processor answer that contradicts what the refund records: kept in
    `last_error` (with `changes`) and the audit trail, the refund flagged for review."""
    changes = {"needs_review": True, **(changes or {})}
    for name, value in changes.items():
        setattr(refund, name, value)
    refund.last_error = note
    refund.save(update_fields=["last_error", *changes])
    audit_record(
        actor=SYSTEM,
        action=AuditAction.REFUND_FLAGGED,
        target=refund,
        after=changes,
        reason=note,
        at=at,
    )
