"""Allowed status moves of refunds (SPEC §3) and final statements (SPEC §4), as data.
`refunds.services.transitions` and `refunds.services.statements` apply them; any move
not listed here is refused."""

from accounts.models import DirectBillStatement

from .models import Refund

S = Refund.Status

# Keyed by plain str: the TextChoices members are str, and callers pass model field values.
CARD_TRANSITIONS: dict[str, set[str]] = {
    S.PENDING: {S.SUBMITTED, S.FAILED},
    S.SUBMITTED: {S.SETTLED, S.FAILED},
    S.SETTLED: set(),
    S.FAILED: set(),
}

CHECK_TRANSITIONS: dict[str, set[str]] = {
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

TRANSITIONS: dict[str, dict[str, set[str]]] = {
    Refund.Method.CARD: CARD_TRANSITIONS,
    Refund.Method.CHECK: CHECK_TRANSITIONS,
}

# Not yet in the holder's hands: past its due date in one of these, a refund is overdue.
NOT_YET_SENT: dict[str, set[str]] = {
    Refund.Method.CARD: {S.PENDING},
    Refund.Method.CHECK: {S.PENDING, S.ISSUED},
}


def allowed_next(method: str, status: str) -> set[str]:
    return TRANSITIONS[method].get(status, set())


def can_move(method: str, status: str, target: str) -> bool:
    return target in allowed_next(method, status)


# Final Direct Bill statements (SPEC §4). A partial payment after the due date leaves
# a statement past due (decision: what is left is still overdue).
T = DirectBillStatement.Status

STATEMENT_TRANSITIONS: dict[str, set[str]] = {
    T.ISSUED: {T.PARTIALLY_PAID, T.PAID, T.PAST_DUE, T.WRITTEN_OFF},
    T.PARTIALLY_PAID: {T.PAID, T.PAST_DUE, T.WRITTEN_OFF},
    T.PAST_DUE: {T.PAID, T.WRITTEN_OFF},
    T.PAID: set(),
    T.WRITTEN_OFF: set(),
}

# A statement in one of these still takes payments.
STATEMENT_OPEN: set[str] = {T.ISSUED, T.PARTIALLY_PAID, T.PAST_DUE}


def statement_can_move(status: str, target: str) -> bool:
    return target in STATEMENT_TRANSITIONS.get(status, set())
