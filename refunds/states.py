"""Allowed refund status moves, as data (SPEC §3). `refunds.services.transitions`
applies them; any move not listed here is refused."""

from .models import Refund

S = Refund.Status

CARD_TRANSITIONS = {
    S.PENDING: {S.SUBMITTED, S.FAILED},
    S.SUBMITTED: {S.SETTLED, S.FAILED},
    S.SETTLED: set(),
    S.FAILED: set(),
}

CHECK_TRANSITIONS = {
    S.PENDING: {S.ISSUED, S.VOID},
    S.ISSUED: {S.MAILED, S.RETURNED, S.VOID, S.STALE},
    S.MAILED: {S.CASHED, S.RETURNED, S.VOID, S.STALE},
    S.RETURNED: {S.REISSUED, S.VOID},
    S.STALE: {S.ESCHEATED, S.REISSUED},
    S.CASHED: set(),
    S.REISSUED: set(),
    S.VOID: set(),
    S.ESCHEATED: set(),
}

TRANSITIONS = {Refund.Method.CARD: CARD_TRANSITIONS, Refund.Method.CHECK: CHECK_TRANSITIONS}

# Not yet in the holder's hands: past its due date in one of these, a refund is overdue.
NOT_YET_SENT = {
    Refund.Method.CARD: {S.PENDING},
    Refund.Method.CHECK: {S.PENDING, S.ISSUED},
}


def allowed_next(method: str, status: str) -> set[str]:
    return TRANSITIONS[method].get(status, set())


def can_move(method: str, status: str, target: str) -> bool:
    return target in allowed_next(method, status)
