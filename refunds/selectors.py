"""Reads for the holder's pages, staff and exporters."""

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import BigIntegerField, CharField, F, OuterRef, Q, Subquery
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy

from accounts.models import (
    AdvanceConnect,
    CustomerAccount,
    DirectBillStatement,
    LedgerEntry,
    PurchaseMethod,
    phone_national,
)
from portal.audit import AuditAction
from portal.models import AuditEvent
from portal.money import cents_to_decimal

from .models import Closure, Refund
from .states import NOT_YET_SENT


def holder_records(account: CustomerAccount) -> Iterator[tuple[str, str, str, Decimal, str]]:
    """Rule B1: every deposit, call, refund and statement of the account, oldest first,
    as rows of (date, type, description, amount in dollars, status)."""
    advance_connect = getattr(account, "advance_connect", None)
    if advance_connect is not None:
        entries = LedgerEntry.objects.filter(advance_connect=advance_connect).order_by(
            "occurred_at", "id"
        )
        for entry in entries.iterator(chunk_size=2000):
            sign = 1 if entry.kind in LedgerEntry.CREDITS else -1
            if entry.kind == LedgerEntry.Kind.DEPOSIT:
                description = entry.get_method_display()
                if entry.card_last4:
                    description += f" ({entry.card_brand} {entry.card_last4})"
            elif entry.kind == LedgerEntry.Kind.CALL_CHARGE:
                description = gettext("Call to %(number)s") % {
                    "number": phone_national(entry.number_called)
                }
            else:
                description = entry.memo
            status = ""
            if entry.kind == LedgerEntry.Kind.CALL_CHARGE:
                status = gettext("settled") if entry.settled_at else gettext("not yet settled")
            yield (
                entry.occurred_at.date().isoformat(),
                entry.get_kind_display(),
                description,
                cents_to_decimal(sign * entry.amount_cents),
                status,
            )
    direct_bill = getattr(account, "direct_bill", None)
    if direct_bill is not None:
        for statement in DirectBillStatement.objects.filter(direct_bill=direct_bill).order_by(
            "statement_date", "id"
        ):
            yield (
                statement.statement_date.isoformat(),
                gettext("Direct Bill statement"),
                gettext("Due %(date)s") % {"date": statement.due_date.isoformat()},
                cents_to_decimal(statement.amount_cents),
                statement.get_status_display(),
            )
    for refund in Refund.objects.filter(closure__account=account).order_by("created_at", "id"):
        yield (
            refund.created_at.date().isoformat(),
            refund.get_method_display(),
            gettext("Due %(date)s") % {"date": refund.due_date.isoformat()},
            cents_to_decimal(refund.amount_cents),
            refund.get_status_display(),
        )


def overdue_q(today: dt.date) -> Q:
    """SPEC §3: past its due date and not yet issued (card) or mailed (check)."""
    condition = Q(pk__in=[])
    for method, statuses in NOT_YET_SENT.items():
        condition |= Q(method=method, status__in=statuses)
    # Every status of any method, once more: it names the refunds the dashboard's index
    # (refunds_refund_to_send) holds, so PostgreSQL reads that index alone.
    any_not_sent = sorted(set().union(*NOT_YET_SENT.values()))
    return Q(status__in=any_not_sent) & condition & Q(due_date__lt=today)


def refund_is_overdue(*, method: str, status: str, due_date: dt.date, today: dt.date) -> bool:
    return due_date < today and status in NOT_YET_SENT[method]


def closure_for_status_lookup(*, reference: str, zip_code: str, last_name: str) -> Closure | None:
    """Rule B2: the closure only when reference, ZIP (first five digits, against the
    address confirmed at closure or any later one) and last name all match."""
    closure = (
        Closure.objects.select_related("account__holder", "address")
        .filter(reference=reference)
        .first()
    )
    if closure is None:
        return None
    zip5 = "".join(ch for ch in zip_code if ch.isdigit())[:5]
    zips = {
        z[:5]
        for z in closure.account.addresses.filter(created_at__gte=closure.closed_at).values_list(
            "zip_code", flat=True
        )
    }
    if closure.address is not None:
        zips.add(closure.address.zip_code[:5])
    surname = closure.account.holder.last_name.strip().casefold()
    if len(zip5) != 5 or zip5 not in zips or last_name.strip().casefold() != surname:
        return None
    return closure


# rule E4: a refund goes back to a card only when the last deposit was made online by card.
CHECK_REASONS: dict[str, Promise] = {
    PurchaseMethod.MONEYGRAM: gettext_lazy(
        "It comes as a check because the last time you added money, you paid by MoneyGram."
    ),
    PurchaseMethod.WESTERN_UNION: gettext_lazy(
        "It comes as a check because the last time you added money, you paid by Western Union."
    ),
    PurchaseMethod.MAIL: gettext_lazy(
        "It comes as a check because the last time you added money, you paid by mail."
    ),
}


def check_reason(last_deposit_method: str) -> str:
    """Why a refund is a check, in the holder's words (rule E4)."""
    reason = CHECK_REASONS.get(last_deposit_method)
    if reason is None:
        return gettext("It comes as a check because we could not find how you last added money.")
    return str(reason)


@dataclass(frozen=True)
class ClosureFacts:
    """What the holder is told after closing (Done page, email, status page)."""

    closure: Closure
    refunds: list
    had_advance_connect: bool
    # rule E4: why a refund is a check; the purchase method of the last deposit, if any.
    last_deposit_method: str

    @property
    def check_reason(self) -> str:
        return check_reason(self.last_deposit_method)

    @property
    def has_direct_bill(self) -> bool:
        return bool(self.closure.direct_bill_outcome)


def closure_facts(closure: Closure) -> ClosureFacts:
    """The closure's refunds and the facts that explain them, in three queries."""
    had_advance_connect = AdvanceConnect.objects.filter(account_id=closure.account_id).exists()
    last_deposit = (
        LedgerEntry.objects.filter(
            advance_connect__account_id=closure.account_id,
            kind=LedgerEntry.Kind.DEPOSIT,
            occurred_at__lte=closure.closed_at,
        )
        .order_by("-occurred_at", "-id")
        .values_list("method", flat=True)
        .first()
    )
    return ClosureFacts(
        closure=closure,
        refunds=list(closure.refunds.order_by("created_at", "id")),
        had_advance_connect=had_advance_connect,
        last_deposit_method=last_deposit or "",
    )


@dataclass(frozen=True)
class RefundNotBacked:
    refund_id: int
    reference: str
    problem: str


def refunds_not_backed() -> Iterator[RefundNotBacked]:
    """Refunds whose money the records do not back (rule S3), for `verify_refunds`:

    - no `refund.created` event in the audit trail for the refund, or one that recorded
      another amount or method: a refund the portal did not make (written with the
      database login). `verify_audit_trail` shows the events themselves are the portal's;
    - a closure's first refund for another amount than the closure refunds, or a
      replacement for another amount than the refund it replaces: money refunded twice.

    Read set-based, a correlated lookup per refund on the trail's (type, id) index."""
    created = AuditEvent.objects.filter(
        object_type=Refund._meta.label_lower,
        action=AuditAction.REFUND_CREATED,
        object_id=Cast(OuterRef("pk"), CharField()),
    ).order_by("id")
    audited = (
        Refund.objects.annotate(
            audited_amount=Subquery(
                created.annotate(
                    value=Cast(KeyTextTransform("amount_cents", "after"), BigIntegerField())
                ).values("value")[:1]
            ),
            audited_method=Subquery(
                created.annotate(value=KeyTextTransform("method", "after")).values("value")[:1]
            ),
        )
        .filter(
            Q(audited_amount__isnull=True)
            | ~Q(audited_amount=F("amount_cents"))
            | ~Q(audited_method=F("method"))
        )
        .order_by("pk")
    )
    for pk, reference, amount, method, audited_amount, audited_method in audited.values_list(
        "pk", "closure__reference", "amount_cents", "method", "audited_amount", "audited_method"
    ).iterator():
        if audited_amount is None:
            problem = "no audited creation: the portal did not make it"
        else:
            problem = (
                f"made as a {audited_method} refund of ${cents_to_decimal(audited_amount)}, "
                f"now a {method} refund of ${cents_to_decimal(amount)}"
            )
        yield RefundNotBacked(pk, reference, problem)
    # What each refund of a closure's chain must pay: the first what the closure refunds,
    # a replacement what the refund it replaces did.
    chain = [
        (Q(replaces__isnull=True), "closure__refund_cents", "the closure refunds"),
        (Q(replaces__isnull=False), "replaces__amount_cents", "it replaces a refund of"),
    ]
    for which, owed_path, owed_words in chain:
        rows = Refund.objects.filter(which).exclude(amount_cents=F(owed_path)).order_by("pk")
        for pk, reference, amount, owed in rows.values_list(
            "pk", "closure__reference", "amount_cents", owed_path
        ).iterator():
            yield RefundNotBacked(
                pk,
                reference,
                f"refunds ${cents_to_decimal(amount)}; {owed_words} ${cents_to_decimal(owed)}",
            )
