"""Moving card refunds and refund checks through their statuses (SPEC §3).

One service per move. Each runs in one transaction: lock the refund, check the move
against `refunds.states`, save the status with who, when and why, write the audit row.
Asked again with the same data once done (a double click, a resubmitted form), a move
returns the refund unchanged. A refused move raises `TransitionRefused` and changes
nothing. No service here ever changes an amount: a correction is a new refund that
points at the one it replaces.
"""

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.addresses import address_refusal, address_validate
from accounts.selectors import current_address
from portal.actors import Actor
from portal.audit import AuditAction, AuditEntry, audit_record, audit_records
from portal.business_calendar import add_calendar_days, business_date
from portal.db import locked
from portal.errors import Refused
from portal.money import format_cents

from ..models import HolderNotice, Refund
from ..states import allowed_next, can_move
from .notices import holder_notice_queue

S = Refund.Status


# The holder is emailed when their check goes in the mail and when it comes back.
HOLDER_NOTICE_ON: dict[str, str] = {
    S.MAILED: HolderNotice.Kind.CHECK_MAILED,
    S.RETURNED: HolderNotice.Kind.CHECK_RETURNED,
}


class TransitionRefused(Refused):
    """The move is not one SPEC §3 allows, or its details are wrong; nothing changed."""


def describe(refund: Refund) -> str:
    """`check 100234 (CL-7KQ2-9XA4, $42.50)`, the way staff talk about a refund."""
    if refund.method == Refund.Method.CARD:
        what = "card refund"
    elif refund.check_number:
        what = f"check {refund.check_number}"
    else:
        what = "refund check"
    return f"{what} ({refund.closure.reference}, {format_cents(refund.amount_cents)})"


def _label(status: str) -> str:
    return str(S(status).label).lower()


def _refuse_move(refund: Refund, target: str) -> NoReturn:
    allowed = sorted(allowed_next(refund.method, refund.status))
    then = ", ".join(_label(status) for status in allowed) or "nothing: this status is final"
    raise TransitionRefused(
        f"The {describe(refund)} is {_label(refund.status)}, so it cannot be marked "
        f"{_label(target)}. From {_label(refund.status)} it can go to: {then}.",
        refund=refund.pk,
    )


def _required(value: str, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise TransitionRefused(f"{what} is required.")
    return value


def _lock(refund: Refund) -> Refund:
    return locked(Refund.objects.select_related("closure__account__holder"), pk=refund.pk)


def _apply(
    locked: Refund,
    *,
    actor: Actor,
    target: str,
    at: dt.datetime,
    reason: str = "",
    changes: dict[str, Any] | None = None,
) -> Refund:
    """Save the move on a refund locked by the caller and write its audit row."""
    changes = changes or {}
    if not can_move(locked.method, locked.status, target):
        _refuse_move(locked, target)
    entry = _moved(locked, actor=actor, target=target, at=at, reason=reason, changes=changes)
    locked.save(update_fields=["status", "status_changed_at", "status_reason", *changes])
    audit_records([entry])
    notice_kind = HOLDER_NOTICE_ON.get(target)
    if notice_kind:
        holder_notice_queue(
            kind=notice_kind,
            key=f"{notice_kind}:{locked.pk}",
            closure=locked.closure,
            refund=locked,
            at=at,
        )
    return locked


def _moved(
    refund: Refund,
    *,
    actor: Actor,
    target: str,
    at: dt.datetime,
    reason: str,
    changes: dict[str, Any],
) -> AuditEntry:
    """Make the move on the instance (not saved) and return its audit event."""
    before = {"status": refund.status, **{name: getattr(refund, name) for name in changes}}
    refund.status = target
    refund.status_changed_at = at
    refund.status_reason = reason
    for name, value in changes.items():
        setattr(refund, name, value)
    return AuditEntry(
        actor=actor,
        action=AuditAction(f"refund.{target}"),
        target=refund,
        before=before,
        after={"status": target, **changes},
        reason=reason,
        at=at,
    )


def _already_done(locked: Refund, target: str, reason: str, changes: dict) -> bool:
    """In the target state with the same data: the move was made already."""
    if locked.status != target:
        return False
    same = all(getattr(locked, name) == value for name, value in changes.items())
    if not same or (reason and locked.status_reason != reason):
        raise TransitionRefused(
            f"The {describe(locked)} is already {_label(target)}, with other details. "
            "Nothing was changed.",
            refund=locked.pk,
        )
    return True


def _move(
    *,
    refund: Refund,
    actor: Actor,
    target: str,
    at: dt.datetime | None = None,
    reason: str = "",
    changes: dict[str, Any] | None = None,
    check: Callable[[Refund, dt.datetime], None] | None = None,
) -> Refund:
    at = at or timezone.now()
    changes = changes or {}
    with transaction.atomic():
        locked = _lock(refund)
        if _already_done(locked, target, reason, changes):
            return locked
        if check is not None and can_move(locked.method, locked.status, target):
            check(locked, at)
        return _apply(locked, actor=actor, target=target, at=at, reason=reason, changes=changes)


def refund_mark_issued(
    *,
    refund: Refund,
    actor: Actor,
    check_number: str,
    issued_on: dt.date | None = None,
    at: dt.datetime | None = None,
) -> Refund:
    """A refund check is printed: pending → issued, with its number (unique) and date."""
    check_number = _required(check_number, "A check number")
    at = at or timezone.now()
    issued_on = issued_on or business_date(at)

    def number_not_used(locked: Refund, _at: dt.datetime) -> None:
        other = Refund.objects.filter(check_number=check_number).exclude(pk=locked.pk).first()
        if other is not None:
            raise TransitionRefused(
                f"Check number {check_number} is already used for the {describe(other)}. "
                "Each check has its own number."
            )

    try:
        return _move(
            refund=refund,
            actor=actor,
            target=S.ISSUED,
            at=at,
            changes={"check_number": check_number, "issued_on": issued_on},
            check=number_not_used,
        )
    except IntegrityError as exc:  # another clerk used the number in the meantime
        raise TransitionRefused(
            f"Check number {check_number} is already used. Each check has its own number."
        ) from exc


def refund_mark_mailed(
    *, refund: Refund, actor: Actor, mailed_on: dt.date | None = None, at: dt.datetime | None = None
) -> Refund:
    """An issued check goes in the mail: issued → mailed, with the mail date."""
    at = at or timezone.now()
    mailed_on = mailed_on or business_date(at)

    def not_before_issue(locked: Refund, _at: dt.datetime) -> None:
        if locked.issued_on and mailed_on < locked.issued_on:
            raise TransitionRefused(
                f"The {describe(locked)} was issued on {locked.issued_on}; "
                f"it cannot have been mailed on {mailed_on}."
            )

    return _move(
        refund=refund,
        actor=actor,
        target=S.MAILED,
        at=at,
        changes={"mailed_on": mailed_on},
        check=not_before_issue,
    )


def refund_mark_cashed(
    *,
    refund: Refund,
    actor: Actor,
    cleared_on: dt.date | None = None,
    at: dt.datetime | None = None,
) -> Refund:
    """The bank cleared the check: mailed → cashed, with the cleared date."""
    at = at or timezone.now()
    return _move(
        refund=refund,
        actor=actor,
        target=S.CASHED,
        at=at,
        changes={"cleared_on": cleared_on or business_date(at)},
    )


def refund_mark_returned(
    *, refund: Refund, actor: Actor, reason: str, at: dt.datetime | None = None
) -> Refund:
    """The post office sent the check back: issued or mailed → returned (why)."""
    reason = _required(reason, "The reason the check came back")
    return _move(refund=refund, actor=actor, target=S.RETURNED, at=at, reason=reason)


def refund_void(
    *, refund: Refund, actor: Actor, reason: str, at: dt.datetime | None = None
) -> Refund:
    """A check that will never be cashed: → void (why). The money is not refunded by
    it; reissue instead when the holder is still owed."""
    reason = _required(reason, "The reason for voiding the check")
    return _move(refund=refund, actor=actor, target=S.VOID, at=at, reason=reason)


def card_refund_mark_submitted(
    *, refund: Refund, actor: Actor, processor_reference: str, at: dt.datetime | None = None
) -> Refund:
    """The card refund is sent to the processor: pending → submitted (reference)."""
    processor_reference = _required(processor_reference, "The processor reference")
    return _move(
        refund=refund,
        actor=actor,
        target=S.SUBMITTED,
        at=at,
        changes={"processor_reference": processor_reference},
    )


def card_refund_mark_settled(
    *, refund: Refund, actor: Actor, at: dt.datetime | None = None
) -> Refund:
    """The processor confirms the money went back to the card: submitted → settled."""
    return _move(refund=refund, actor=actor, target=S.SETTLED, at=at)


def _not_stale_yet(refund: Refund, at: dt.datetime) -> str | None:
    """Why the check cannot go stale at `at`, or None when it is old enough."""
    if refund.issued_on is None:  # only issued checks can move to stale
        return f"The {describe(refund)} was never issued."
    stale_from = add_calendar_days(refund.issued_on, settings.STALE_CHECK_DAYS)
    if business_date(at) < stale_from:
        return (
            f"The {describe(refund)} was issued on {refund.issued_on}; it can be "
            f"marked stale from {stale_from}."
        )
    return None


def refund_mark_stale(*, refund: Refund, actor: Actor, at: dt.datetime | None = None) -> Refund:
    """An uncashed check goes stale `STALE_CHECK_DAYS` (180) days after issue."""

    def old_enough(locked: Refund, at: dt.datetime) -> None:
        if refusal := _not_stale_yet(locked, at):
            raise TransitionRefused(refusal)

    return _move(refund=refund, actor=actor, target=S.STALE, at=at, check=old_enough)


def refunds_mark_stale(refunds: Sequence[Refund], *, actor: Actor, at: dt.datetime) -> list[Refund]:
    """SPEC §3: `refund_mark_stale` for a batch of checks the caller has locked (with
    their closures), in its transaction: one UPDATE and the same audit events, one
    insert. A check that may not go stale (never issued, too recent, moved on) is left
    as it is; the moved ones are returned."""
    moving = [
        refund
        for refund in refunds
        if can_move(refund.method, refund.status, S.STALE) and _not_stale_yet(refund, at) is None
    ]
    if not moving:
        return []
    entries = [
        _moved(refund, actor=actor, target=S.STALE, at=at, reason="", changes={})
        for refund in moving
    ]
    Refund.objects.filter(pk__in=[refund.pk for refund in moving]).update(
        status=S.STALE, status_changed_at=at, status_reason=""
    )
    audit_records(entries)
    return moving


def refund_mark_escheated(
    *, refund: Refund, actor: Actor, report_reference: str, at: dt.datetime | None = None
) -> Refund:
    """A stale check's money is remitted to the state as unclaimed property:
    stale → escheated, with the report reference (SPEC §3, B6)."""
    report_reference = _required(report_reference, "The unclaimed property report reference")
    return _move(
        refund=refund,
        actor=actor,
        target=S.ESCHEATED,
        at=at,
        changes={"escheat_report_reference": report_reference},
    )


def _address_of(refund: Refund) -> dict:
    return {
        "line1": refund.address_line1,
        "line2": refund.address_line2,
        "city": refund.address_city,
        "state": refund.address_state,
        "zip_code": refund.address_zip,
    }


def _replacement_check(
    *, old: Refund, actor: Actor, address: dict | None, at: dt.datetime, reason: str
) -> Refund:
    """A new pending check for the same amount that points at the refund it replaces;
    to be mailed within 21 days, like any refund check (rule E4)."""
    holder = old.closure.account.holder
    address = address or {}
    check = Refund.objects.create(
        closure=old.closure,
        replaces=old,
        method=Refund.Method.CHECK,
        status=S.PENDING,
        amount_cents=old.amount_cents,
        created_at=at,
        status_changed_at=at,
        status_reason=reason,
        due_date=add_calendar_days(business_date(at), settings.CHECK_MAILED_WITHIN_DAYS),
        # No deliverable address on record: staff must find one (rule N4).
        needs_review=not address,
        payee_name=old.payee_name or holder.get_full_name() or holder.email,
        address_line1=address.get("line1", ""),
        address_line2=address.get("line2", ""),
        address_city=address.get("city", ""),
        address_state=address.get("state", ""),
        address_zip=address.get("zip_code", ""),
    )
    audit_record(
        actor=actor,
        action=AuditAction.REFUND_CREATED,
        target=check,
        after={
            "method": check.method,
            "amount_cents": check.amount_cents,
            "due_date": check.due_date,
            "status": check.status,
            "replaces": old.pk,
            "address": _address_of(check),
            "needs_review": check.needs_review,
        },
        reason=reason,
        at=at,
    )
    return check


def refund_reissue(
    *,
    refund: Refund,
    actor: Actor,
    line1: str,
    city: str,
    state: str,
    zip_code: str,
    line2: str = "",
    reason: str = "",
    at: dt.datetime | None = None,
) -> Refund:
    """A returned (or stale) check is reissued to a corrected address (SPEC §3, B3):
    the old check becomes `reissued` and a NEW check for the same amount replaces it.
    Returns the new check."""
    try:
        address = address_validate(
            line1=line1, line2=line2, city=city, state=state, zip_code=zip_code
        ).as_dict()
    except ValidationError as invalid:
        raise TransitionRefused(address_refusal(invalid)) from invalid
    reason = reason.strip() or "Reissued to a corrected address"
    at = at or timezone.now()
    with transaction.atomic():
        old = _lock(refund)
        if old.status == S.REISSUED:
            new = Refund.objects.filter(replaces=old).first()
            if new is not None and _address_of(new) == address:
                return new
            raise TransitionRefused(
                f"The {describe(old)} was already reissued to another address. Nothing was changed."
            )
        _apply(old, actor=actor, target=S.REISSUED, at=at, reason=reason)
        return _replacement_check(old=old, actor=actor, address=address, at=at, reason=reason)


def card_refund_fail(
    *, refund: Refund, actor: Actor, reason: str, at: dt.datetime | None = None
) -> Refund:
    """The card refund failed: → failed (why), and a refund check replaces it, to the
    address on record (SPEC §3). Returns the new check; without an address on record
    it is flagged for staff review."""
    reason = _required(reason, "The reason the card refund failed")
    at = at or timezone.now()
    with transaction.atomic():
        old = _lock(refund)
        if _already_done(old, S.FAILED, reason, {}):
            return Refund.objects.get(replaces=old)
        _apply(old, actor=actor, target=S.FAILED, at=at, reason=reason)
        address = current_address(old.closure.account)
        return _replacement_check(
            old=old,
            actor=actor,
            address=address.as_dict() if address else None,
            at=at,
            reason=f"Replaces the failed card refund: {reason}",
        )
