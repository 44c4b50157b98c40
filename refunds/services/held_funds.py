"""Held funds (rules N4, N5, B6): money that could not be refunded, kept for the holder
until they claim it or it is disposed of under the law."""

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.addresses import address_refusal, address_validate
from accounts.services import Activity, account_record_activity
from portal.actors import Actor
from portal.audit import AuditAction, audit_record
from portal.db import locked
from portal.errors import Refused

from ..models import HeldFunds, HolderNotice, Refund
from .notices import holder_notice_queue
from .transitions import _lock as _lock_refund
from .transitions import _replacement_check, describe, refund_void


class HeldFundsRefused(Refused):
    """The held funds cannot move as asked; nothing was changed."""


def _lock(held_funds: HeldFunds) -> HeldFunds:
    return locked(
        HeldFunds.objects.select_related("closure__account__holder", "refund"), pk=held_funds.pk
    )


def held_funds_can_hold(refund: Refund) -> bool:
    """Rule N4: only a refund check that has not reached the holder, and will not, can
    be held: still to be printed (no deliverable address) or returned undeliverable."""
    return refund.method == Refund.Method.CHECK and refund.status in (
        Refund.Status.PENDING,
        Refund.Status.RETURNED,
    )


def held_funds_from_refund(
    *, refund: Refund, actor: Actor, reason: str, at: dt.datetime | None = None
) -> HeldFunds:
    """Rule N4: a check that cannot be delivered (returned with no new address, or no
    deliverable address on record) is voided and its money becomes held funds, with the
    amount, since when and why. Safe to repeat: the refund's held funds come back."""
    reason = (reason or "").strip()
    if not reason:
        raise HeldFundsRefused("Say why the refund cannot be made.")
    at = at or timezone.now()
    with transaction.atomic():
        # Lock first: two clerks (or a clerk and a job) holding the same check at once
        # get the same held funds, and a check issued meanwhile is not held.
        refund = _lock_refund(refund)
        existing = HeldFunds.objects.filter(refund=refund).first()
        if existing is not None:
            return existing
        if not held_funds_can_hold(refund):
            raise HeldFundsRefused(
                f"Only a pending or returned refund check can be held; the "
                f"{describe(refund)} is {refund.get_status_display().lower()}. "
                "Nothing was changed."
            )
        refund = refund_void(refund=refund, actor=actor, reason=f"Funds held: {reason}", at=at)
        held = HeldFunds.objects.create(
            closure=refund.closure,
            refund=refund,
            amount_cents=refund.amount_cents,
            held_since=at,
            reason=reason,
            status_changed_at=at,
        )
        audit_record(
            actor=actor,
            action=AuditAction.HELD_FUNDS_CREATED,
            target=held,
            after={"amount_cents": held.amount_cents, "refund": refund.pk, "status": held.status},
            reason=reason,
            at=at,
        )
        holder_notice_queue(
            kind=HolderNotice.Kind.FUNDS_HELD,
            key=f"funds_held:{held.pk}",
            closure=held.closure,
            refund=refund,
            at=at,
        )
    return held


def held_funds_claim(
    *, held_funds: HeldFunds, actor: Actor, address: dict, at: dt.datetime | None = None
) -> Refund:
    """Rule N5: until final disposition the holder may ask for the money: a new refund
    check to a verified address, and the request counts as activity (N2)."""
    try:
        address = address_validate(**address).as_dict()
    except ValidationError as invalid:
        raise HeldFundsRefused(address_refusal(invalid)) from invalid
    at = at or timezone.now()
    with transaction.atomic():
        held = _lock(held_funds)
        if held.status == HeldFunds.Status.CLAIMED:
            if held.claimed_by_refund is None:  # a claim sets its refund in the same save
                raise HeldFundsRefused("These funds were claimed already.")
            return held.claimed_by_refund
        if held.status != HeldFunds.Status.HELD:
            raise HeldFundsRefused(
                "These funds were already sent to the state as unclaimed property. "
                "Call Customer Support to claim them from the state."
            )
        check = _replacement_check(
            old=held.refund, actor=actor, address=address, at=at, reason="Held funds claimed"
        )
        held.status = HeldFunds.Status.CLAIMED
        held.claimed_by_refund = check
        held.status_changed_at = at
        held.save(update_fields=["status", "claimed_by_refund", "status_changed_at"])
        account_record_activity(account=held.closure.account, kind=Activity.REFUND_REQUEST, at=at)
        audit_record(
            actor=actor,
            action=AuditAction.HELD_FUNDS_CLAIMED,
            target=held,
            before={"status": HeldFunds.Status.HELD},
            after={"status": held.status, "refund": check.pk, "address": address},
            at=at,
        )
    return check


def held_funds_record_owner_notice(
    *, held_funds: HeldFunds, actor: Actor, mailed_on: dt.date, at: dt.datetime | None = None
) -> HeldFunds:
    """Rule B6: the owner was mailed a notice before the funds are reported to a state."""
    at = at or timezone.now()
    with transaction.atomic():
        held = _lock(held_funds)
        if held.status != HeldFunds.Status.HELD:
            raise HeldFundsRefused("Only funds still held need an owner notice.")
        before = {"owner_notice_mailed_on": held.owner_notice_mailed_on}
        held.owner_notice_mailed_on = mailed_on
        held.save(update_fields=["owner_notice_mailed_on"])
        audit_record(
            actor=actor,
            action=AuditAction.HELD_FUNDS_OWNER_NOTICE,
            target=held,
            before=before,
            after={"owner_notice_mailed_on": mailed_on},
            at=at,
        )
    return held


def _owner_notice_problem(held: HeldFunds, *, state: str, remitted_on: dt.date) -> str:
    mailed_on = held.owner_notice_mailed_on
    if mailed_on is None or mailed_on > remitted_on:
        return "Mail the owner notice before remitting (rule B6)."
    # rule B6: some states (New Mexico: 60 to 120 days, for $50 or more) say when;
    # elsewhere the notice must at least come first.
    window = settings.ESCHEAT_OWNER_NOTICE_WINDOWS.get(state)
    if window is not None and held.amount_cents >= window["min_cents"]:
        days = (remitted_on - mailed_on).days
        if not window["min_days"] <= days <= window["max_days"]:
            return (
                f"{state} wants the owner notice {window['min_days']} to {window['max_days']} "
                f"days before the report; it was mailed {days} days before (rule B6)."
            )
    return ""


def held_funds_record_disposition(
    *,
    held_funds: HeldFunds,
    actor: Actor,
    remitted_on: dt.date,
    state: str,
    report_reference: str,
    at: dt.datetime | None = None,
) -> HeldFunds:
    """Rule N4: the final disposition, e.g. reported and remitted to a state as
    unclaimed property, with the report reference. Needs the owner notice first (B6)."""
    at = at or timezone.now()
    report_reference = (report_reference or "").strip()
    if not report_reference or not state:
        raise HeldFundsRefused("Give the state and the unclaimed property report reference.")
    with transaction.atomic():
        held = _lock(held_funds)
        if held.status == HeldFunds.Status.REMITTED and held.report_reference == report_reference:
            return held
        if held.status != HeldFunds.Status.HELD:
            raise HeldFundsRefused(
                f"These funds are {held.get_status_display().lower()}; nothing was changed."
            )
        owner_notice_problem = _owner_notice_problem(held, state=state, remitted_on=remitted_on)
        if owner_notice_problem:
            raise HeldFundsRefused(f"{owner_notice_problem} Nothing was changed.")
        held.status = HeldFunds.Status.REMITTED
        held.remitted_on = remitted_on
        held.remitted_to_state = state
        held.report_reference = report_reference
        held.status_changed_at = at
        held.save(
            update_fields=[
                "status",
                "remitted_on",
                "remitted_to_state",
                "report_reference",
                "status_changed_at",
            ]
        )
        audit_record(
            actor=actor,
            action=AuditAction.HELD_FUNDS_REMITTED,
            target=held,
            before={"status": HeldFunds.Status.HELD},
            after={
                "status": held.status,
                "remitted_on": remitted_on,
                "state": state,
                "report_reference": report_reference,
            },
            at=at,
        )
    return held
