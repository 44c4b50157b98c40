"""A former holder asks for money that did not reach them (rules B3, N5).

A new address given without signing in sends no money by itself (rule B3): it becomes an
`AddressChangeRequest` awaiting confirmation, the holder is emailed at once at the email
on record with a one-time link, valid 72 hours, and only the link, or Refund operations
after a call, turn it into a new check.
"""

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.addresses import address_refusal, address_validate
from accounts.services import Activity, account_record_activity
from portal.actors import HOLDER_BY_EMAILED_LINK, HOLDER_ON_STATUS_PAGE, Actor, actor_user
from portal.audit import AuditAction, audit_record
from portal.db import locked
from portal.errors import Refused
from portal.links import absolute_url

from ..emails import send_holder_email
from ..models import AddressChangeRequest, Closure, HeldFunds, Refund
from .held_funds import held_funds_claim
from .transitions import refund_reissue

S = AddressChangeRequest.Status


class AddressChangeRefused(Refused):
    """The request cannot go on as asked; nothing was changed."""


def claimable(closure: Closure) -> HeldFunds | Refund | None:
    """What the holder can still ask to have sent to a new address: a returned check
    not yet reissued, or funds still held. None when there is nothing."""
    held = closure.held_funds.filter(status=HeldFunds.Status.HELD).select_related("refund").first()
    if held is not None:
        return held
    return closure.refunds.filter(method=Refund.Method.CHECK, status=Refund.Status.RETURNED).first()


def refund_claim_to_new_address(
    *, closure: Closure, address: dict, actor: Actor, at: dt.datetime | None = None
) -> Refund | None:
    """B3: a returned check is reissued to the verified address; N5: held funds are paid
    out by a new check to it. Either way through the services staff use, and the
    request counts as activity (N2). Returns the new check, or None if nothing is owed.
    Called only once the address is confirmed or approved (see below)."""
    at = at or timezone.now()
    with transaction.atomic():
        item = claimable(closure)
        if item is None:
            return None
        if isinstance(item, HeldFunds):
            return held_funds_claim(held_funds=item, actor=actor, address=address, at=at)
        check = refund_reissue(
            refund=item, actor=actor, reason="New address given by the holder", at=at, **address
        )
        account_record_activity(account=closure.account, kind=Activity.REFUND_REQUEST, at=at)
        return check


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _lock(change: AddressChangeRequest) -> AddressChangeRequest:
    return locked(
        AddressChangeRequest.objects.select_related("closure__account__holder"), pk=change.pk
    )


def _decide(
    change: AddressChangeRequest,
    *,
    status: str,
    actor: Actor,
    at: dt.datetime,
    reason: str = "",
    new_refund: Refund | None = None,
) -> AddressChangeRequest:
    """Save the decision on a request locked by the caller, with its audit row."""
    before = {"status": change.status}
    change.status = status
    change.decided_at = at
    change.decided_by = actor_user(actor)
    change.decision_reason = reason
    change.new_refund = new_refund
    change.save(
        update_fields=["status", "decided_at", "decided_by", "decision_reason", "new_refund"]
    )
    audit_record(
        actor=actor,
        action=AuditAction(f"address_change.{status}"),
        target=change,
        before=before,
        after={"status": status, "new_refund": new_refund and new_refund.pk},
        reason=reason,
        at=at,
    )
    return change


def address_change_request_create(
    *, closure: Closure, address: dict, at: dt.datetime | None = None
) -> AddressChangeRequest:
    """Rule B3 (and N5 for held funds): record a new address given without signing in,
    awaiting confirmation; an older request still waiting is cancelled by this one. The
    holder is emailed the confirmation link after commit. No check is created here."""
    try:
        address = address_validate(**address).as_dict()
    except ValidationError as invalid:
        raise AddressChangeRefused(address_refusal(invalid)) from invalid
    at = at or timezone.now()
    with transaction.atomic():
        # One request at a time per closure: two submissions at once queue up here.
        closure = locked(Closure.objects.select_related("account__holder"), pk=closure.pk)
        item = claimable(closure)
        if item is None:
            raise AddressChangeRefused("There is nothing left to send to a new address.")
        for older in closure.address_changes.filter(status=S.AWAITING_CONFIRMATION):
            _decide(
                older,
                status=S.CANCELLED,
                actor=HOLDER_ON_STATUS_PAGE,
                at=at,
                reason="Replaced by a newer request",
            )
        change = AddressChangeRequest.objects.create(
            closure=closure,
            refund=item if isinstance(item, Refund) else None,
            held_funds=item if isinstance(item, HeldFunds) else None,
            created_at=at,
            **address,
        )
        audit_record(
            actor=HOLDER_ON_STATUS_PAGE,
            action=AuditAction.ADDRESS_CHANGE_REQUESTED,
            target=change,
            after={"status": change.status, "address": address, "for": str(item)},
            at=at,
        )
        if closure.account.holder.email:
            from ..tasks import address_change_link_send

            transaction.on_commit(lambda: address_change_link_send.enqueue(change_id=change.pk))
    return change


def address_change_request_email_link(*, change_id: int, at: dt.datetime | None = None) -> None:
    """Rule B3: email the holder, at the email on record, a one-time link to confirm the
    new address, valid `ADDRESS_CHANGE_LINK_VALID_HOURS` (72) from now. Only the token's hash is
    kept. Once only: an emailed or decided request is left alone, and a failed send
    keeps nothing, so `retry_pending_work` sends a fresh link."""
    at = at or timezone.now()
    with transaction.atomic():
        change = locked(AddressChangeRequest, pk=change_id)
        holder = change.closure.account.holder
        if change.status != S.AWAITING_CONFIRMATION or change.emailed_at or not holder.email:
            return
        token = secrets.token_urlsafe(32)
        change.token_hash = _token_hash(token)
        change.emailed_at = at
        change.expires_at = at + dt.timedelta(hours=settings.ADDRESS_CHANGE_LINK_VALID_HOURS)
        change.save(update_fields=["token_hash", "emailed_at", "expires_at"])
        path = reverse("refund_confirm_address", args=[token])
        send_holder_email(
            user=holder,
            template="address_change_confirm",
            context={
                "change": change,
                "closure": change.closure,
                "amount_cents": change.money().amount_cents,
                "confirm_url": absolute_url(path),
                "hours": settings.ADDRESS_CHANGE_LINK_VALID_HOURS,
            },
        )


def address_change_request_for_token(token: str) -> AddressChangeRequest | None:
    """The request a link is for, or None for a link we never sent."""
    return (
        AddressChangeRequest.objects.select_related("closure", "refund", "held_funds")
        .filter(token_hash=_token_hash(token))
        .first()
    )


def address_change_link_is_live(change: AddressChangeRequest, at: dt.datetime) -> bool:
    return (
        change.status == S.AWAITING_CONFIRMATION
        and change.expires_at is not None
        and at < change.expires_at
    )


def address_change_request_confirm(
    *, token: str, at: dt.datetime | None = None
) -> AddressChangeRequest:
    """Rule B3: the holder opened the emailed link and confirmed: the new check is
    created now, in this transaction, exactly once (a double click or a second tab get
    the same check). A link past its 72 hours marks the request expired instead."""
    at = at or timezone.now()
    found = address_change_request_for_token(token)
    if found is None:
        raise AddressChangeRefused("This link is not one we sent.")
    with transaction.atomic():
        change = _lock(found)
        if change.status != S.AWAITING_CONFIRMATION:
            return change
        # A link is sent with its expiry: a request found by its token always has one.
        if change.expires_at is None or at >= change.expires_at:
            return _decide(change, status=S.EXPIRED, actor=HOLDER_BY_EMAILED_LINK, at=at)
        return _execute(change, status=S.CONFIRMED, actor=HOLDER_BY_EMAILED_LINK, at=at)


def address_change_request_approve(
    *, change: AddressChangeRequest, actor: Actor, reason: str, at: dt.datetime | None = None
) -> AddressChangeRequest:
    """Rule B3: Refund operations approve a request after a call with the holder (who
    cannot confirm by email); the new check is created now. Who, when and why go to
    the audit trail. The caller checks the role (`refunds.move_refund`)."""
    reason = (reason or "").strip()
    if not reason:
        raise AddressChangeRefused("Say why it is approved (e.g. the call that confirmed it).")
    at = at or timezone.now()
    with transaction.atomic():
        change = _lock(change)
        if change.status == S.APPROVED:
            return change
        if change.status != S.AWAITING_CONFIRMATION:
            raise AddressChangeRefused(
                f"This request is {change.get_status_display().lower()}; nothing was changed."
            )
        return _execute(change, status=S.APPROVED, actor=actor, at=at, reason=reason)


def address_change_request_cancel(
    *, change: AddressChangeRequest, actor: Actor, reason: str, at: dt.datetime | None = None
) -> AddressChangeRequest:
    """The holder called to say the request was not theirs: it will never send money."""
    reason = (reason or "").strip()
    if not reason:
        raise AddressChangeRefused("Say why it is cancelled.")
    at = at or timezone.now()
    with transaction.atomic():
        change = _lock(change)
        if change.status != S.AWAITING_CONFIRMATION:
            raise AddressChangeRefused(
                f"This request is {change.get_status_display().lower()}; nothing was changed."
            )
        return _decide(change, status=S.CANCELLED, actor=actor, at=at, reason=reason)


def _execute(
    change: AddressChangeRequest, *, status: str, actor: Actor, at: dt.datetime, reason: str = ""
) -> AddressChangeRequest:
    try:
        check = refund_claim_to_new_address(
            closure=change.closure, address=change.address(), actor=actor, at=at
        )
    except Refused as refused:
        raise AddressChangeRefused(str(refused)) from refused
    if check is None:
        return _decide(
            change, status=S.CANCELLED, actor=actor, at=at, reason="Nothing left to send"
        )
    return _decide(change, status=status, actor=actor, at=at, reason=reason, new_refund=check)
