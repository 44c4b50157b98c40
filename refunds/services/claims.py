"""A former holder asks for money that did not reach them (rules B3, N5)."""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from accounts.services import Activity, account_record_activity

from ..models import Closure, HeldFunds, Refund
from .held_funds import held_funds_claim
from .transitions import refund_reissue

HOLDER = "holder (refund status page)"


def claimable(closure: Closure):
    """What the holder can still ask to have sent to a new address: a returned check
    not yet reissued, or funds still held. None when there is nothing."""
    held = closure.held_funds.filter(status=HeldFunds.Status.HELD).select_related("refund").first()
    if held is not None:
        return held
    return closure.refunds.filter(method=Refund.Method.CHECK, status=Refund.Status.RETURNED).first()


def refund_claim_to_new_address(
    *, closure: Closure, address: dict, at: dt.datetime | None = None
) -> Refund | None:
    """B3: a returned check is reissued to the verified address; N5: held funds are paid
    out by a new check to it. Either way through the services staff use, and the
    request counts as activity (N2). Returns the new check, or None if nothing is owed."""
    at = at or timezone.now()
    with transaction.atomic():
        item = claimable(closure)
        if item is None:
            return None
        if isinstance(item, HeldFunds):
            return held_funds_claim(held_funds=item, actor=HOLDER, address=address, at=at)
        check = refund_reissue(
            refund=item, actor=HOLDER, reason="New address given by the holder", at=at, **address
        )
        account_record_activity(account=closure.account, kind=Activity.REFUND_REQUEST, at=at)
        return check
