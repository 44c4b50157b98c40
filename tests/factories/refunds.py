"""Closures, refunds and final statements, one trait per SPEC §3/§4 scenario."""

import datetime as dt

import factory
from django.utils import timezone

from accounts.models import CustomerAccount, DirectBillStatement, User
from portal.business_calendar import business_date
from refunds.models import (
    AddressChangeRequest,
    Closure,
    HeldFunds,
    HolderNotice,
    InactivityNotice,
    Refund,
)

from .accounts import (
    AdvanceConnectFactory,
    CustomerAccountFactory,
    DirectBillFactory,
    LedgerEntryFactory,
)

S = Refund.Status


def _today():
    return business_date(timezone.now())


class ClosureFactory(factory.django.DjangoModelFactory):
    """A closed account's closure, with $42.50 to refund."""

    class Meta:
        model = Closure

    account = factory.SubFactory(
        CustomerAccountFactory,
        status=CustomerAccount.Status.CLOSED,
        closed_at=factory.LazyFunction(timezone.now),
    )
    reason = Closure.Reason.HOLDER_REQUEST
    closed_at = factory.LazyAttribute(lambda o: o.account.closed_at)
    refund_cents = 4250

    class Params:
        # rule E5: a Direct Bill closure inside its 7-10 day hold
        direct_bill_held = factory.Trait(
            direct_bill_outcome=Closure.DirectBillOutcome.HELD,
            direct_bill_hold_from=factory.LazyFunction(lambda: _today() + dt.timedelta(days=7)),
            direct_bill_hold_until=factory.LazyFunction(lambda: _today() + dt.timedelta(days=10)),
        )


class RefundFactory(factory.django.DjangoModelFactory):
    """A pending refund check for $42.50, due in 21 days; traits for each later status."""

    class Meta:
        model = Refund

    closure = factory.SubFactory(ClosureFactory)
    method = Refund.Method.CHECK
    status = S.PENDING
    amount_cents = factory.LazyAttribute(lambda o: o.closure.refund_cents)
    created_at = factory.LazyFunction(timezone.now)
    status_changed_at = factory.LazyAttribute(lambda o: o.created_at)
    due_date = factory.LazyFunction(lambda: _today() + dt.timedelta(days=21))
    payee_name = "Charles Okafor"
    address_line1 = "1200 E 6TH ST"
    address_city = "AUSTIN"
    address_state = "TX"
    address_zip = "78702"

    class Params:
        # rule E4: a card refund to the card last used, due in 3 business days
        card = factory.Trait(
            method=Refund.Method.CARD,
            card_brand="Visa",
            card_last4="4242",
            card_token=factory.Sequence(lambda n: f"tok_{n:06d}"),
            due_date=factory.LazyFunction(lambda: _today() + dt.timedelta(days=3)),
        )
        submitted = factory.Trait(card=True, status=S.SUBMITTED, processor_reference="re_0001")
        issued = factory.Trait(
            status=S.ISSUED,
            check_number=factory.Sequence(lambda n: f"{100000 + n}"),
            issued_on=factory.LazyFunction(lambda: _today() - dt.timedelta(days=2)),
        )
        mailed = factory.Trait(
            issued=True,
            status=S.MAILED,
            mailed_on=factory.LazyFunction(lambda: _today() - dt.timedelta(days=1)),
        )
        returned = factory.Trait(issued=True, status=S.RETURNED, status_reason="Moved away")
        # SPEC §3: uncashed 180 days after issue
        stale = factory.Trait(
            issued=True,
            status=S.STALE,
            issued_on=factory.LazyFunction(lambda: _today() - dt.timedelta(days=200)),
        )
        # SPEC §3: past due and not yet sent
        overdue = factory.Trait(
            due_date=factory.LazyFunction(lambda: _today() - dt.timedelta(days=1))
        )


# The fields a refund carries in each status, so any status can be set up directly.
STATUS_FIELDS = {
    S.PENDING: {},
    S.SUBMITTED: {"processor_reference": "re_0001"},
    S.SETTLED: {"processor_reference": "re_0001"},
    S.FAILED: {"status_reason": "Card closed"},
    S.ISSUED: {},
    S.MAILED: {"mailed_on": dt.timedelta(days=1)},
    S.CASHED: {"mailed_on": dt.timedelta(days=1), "cleared_on": dt.timedelta(days=0)},
    S.RETURNED: {"status_reason": "Moved away"},
    S.REISSUED: {"status_reason": "Reissued"},
    S.VOID: {"status_reason": "Lost"},
    S.STALE: {},
    S.ESCHEATED: {"escheat_report_reference": "TX-UP-2026"},
}


def refund_in(method: str, status: str, **overrides) -> Refund:
    """A refund of `method` in `status`, with the fields that status implies."""
    today = _today()
    fields = {
        name: today - value if isinstance(value, dt.timedelta) else value
        for name, value in STATUS_FIELDS[status].items()
    }
    if method == Refund.Method.CARD:
        return RefundFactory(card=True, status=status, **{**fields, **overrides})
    if status == S.PENDING:
        return RefundFactory(**overrides)
    # A check that left the printer has a number; stale ones were issued 200 days ago.
    days_ago = 200 if status in (S.STALE, S.ESCHEATED) else 2
    fields["issued_on"] = today - dt.timedelta(days=days_ago)
    return RefundFactory(issued=True, status=status, **{**fields, **overrides})


class FinalStatementFactory(factory.django.DjangoModelFactory):
    """A final Direct Bill statement (rule E5) of $18.90, due 20 days after its date."""

    class Meta:
        model = DirectBillStatement

    direct_bill = factory.SubFactory(DirectBillFactory)
    statement_date = factory.LazyFunction(_today)
    amount_cents = 1890
    due_date = factory.LazyAttribute(lambda o: o.statement_date + dt.timedelta(days=20))
    is_final = True
    created_at = factory.LazyFunction(timezone.now)

    class Params:
        past_its_due_date = factory.Trait(
            statement_date=factory.LazyFunction(lambda: _today() - dt.timedelta(days=30))
        )


class HeldFundsFactory(factory.django.DjangoModelFactory):
    """Rule N4: $42.50 held since today, the check having come back with no new address
    (the check is void); traits for the owner notice and the remittance (B6)."""

    class Meta:
        model = HeldFunds

    closure = factory.SubFactory(ClosureFactory)
    refund = factory.SubFactory(
        RefundFactory,
        closure=factory.SelfAttribute("..closure"),
        issued=True,
        status=S.VOID,
        status_reason="Funds held: Moved away",
    )
    amount_cents = factory.LazyAttribute(lambda o: o.refund.amount_cents)
    held_since = factory.LazyFunction(timezone.now)
    reason = "Moved away"
    status_changed_at = factory.LazyAttribute(lambda o: o.held_since)

    class Params:
        noticed = factory.Trait(
            owner_notice_mailed_on=factory.LazyFunction(lambda: _today() - dt.timedelta(days=90))
        )
        remitted = factory.Trait(
            noticed=True,
            status=HeldFunds.Status.REMITTED,
            remitted_on=factory.LazyFunction(_today),
            remitted_to_state="TX",
            report_reference="TX-UP-2026-0001",
        )


class HolderNoticeFactory(factory.django.DjangoModelFactory):
    """An email to the holder about their returned check, not sent yet."""

    class Meta:
        model = HolderNotice

    kind = HolderNotice.Kind.CHECK_RETURNED
    key = factory.Sequence(lambda n: f"check_returned:test-{n}")
    closure = factory.SubFactory(ClosureFactory)
    user = factory.LazyAttribute(lambda o: o.closure.account.holder)
    created_at = factory.LazyFunction(timezone.now)

    class Params:
        sent = factory.Trait(sent_at=factory.LazyFunction(timezone.now), attempts=1)
        failing = factory.Trait(attempts=3, last_error="SMTP 451: mailbox busy, try later")


class AddressChangeRequestFactory(factory.django.DjangoModelFactory):
    """Rule B3: a new address for a returned check, given without signing in, awaiting
    the holder's confirmation (no link emailed yet)."""

    class Meta:
        model = AddressChangeRequest

    refund = factory.SubFactory(RefundFactory, returned=True)
    closure = factory.LazyAttribute(lambda o: o.refund.closure)
    line1 = "455 W 2ND ST"
    city = "ROSWELL"
    state = "NM"
    zip_code = "88201"
    created_at = factory.LazyFunction(timezone.now)


def inactive_nm_account(
    now: dt.datetime, *, notified_days_ago: int | None = 31, cents: int = 1000, **deposit
) -> CustomerAccount:
    """Rule N3: a New Mexico account inactive for 181 days with `cents` on AdvanceConnect
    (a card deposit unless `deposit` says otherwise), whose first notice left
    `notified_days_ago` days before `now` (None: never notified). Due for closure at
    `now` when notified 7 or more days before."""
    inactive_since = now - dt.timedelta(days=181)
    ac = AdvanceConnectFactory(account__new_mexico=True, account__last_activity_at=inactive_since)
    LedgerEntryFactory(
        advance_connect=ac, amount_cents=cents, occurred_at=inactive_since, **deposit
    )
    if notified_days_ago is not None:
        sent_at = now - dt.timedelta(days=notified_days_ago)
        InactivityNotice.objects.create(
            account=ac.account,
            days_before=30,
            inactive_since=inactive_since,
            closes_on=business_date(sent_at) + dt.timedelta(days=30),
            created_at=sent_at,
            sent_at=sent_at,
        )
    return ac.account


def refunds_in_bulk(count: int, *, method=Refund.Method.CHECK) -> None:
    """`count` closed accounts with one pending refund each, in four bulk inserts:
    for the list pages that must stay fast at any size."""
    now = timezone.now()
    start = User.objects.count()
    users = User.objects.bulk_create(
        User(email=f"bulk{start + i}@example.test", first_name="Bulk", last_name=str(i))
        for i in range(count)
    )
    accounts = CustomerAccount.objects.bulk_create(
        CustomerAccount(
            holder=user,
            number=f"9{start + i:08d}",
            status=CustomerAccount.Status.CLOSED,
            service_state="TX",
            opened_at=now,
            closed_at=now,
            last_activity_at=now,
        )
        for i, user in enumerate(users)
    )
    closures = Closure.objects.bulk_create(
        Closure(
            account=account,
            reference=f"CL-B{(start + i) // 10000:03d}-{(start + i) % 10000:04d}",
            reason=Closure.Reason.HOLDER_REQUEST,
            closed_at=now,
            refund_cents=1000 + i,
        )
        for i, account in enumerate(accounts)
    )
    Refund.objects.bulk_create(
        Refund(
            closure=closure,
            method=method,
            amount_cents=closure.refund_cents,
            created_at=now,
            status_changed_at=now,
            due_date=_today() + dt.timedelta(days=21),
            payee_name="Bulk Holder",
        )
        for closure in closures
    )


def held_funds_in_bulk(count: int) -> None:
    """`count` closures whose check could not be delivered (rule N4): each check void
    and its money held, with an email to the holder that has not gone out."""
    refunds_in_bulk(count)
    now = timezone.now()
    refunds = list(
        Refund.objects.filter(held_funds__isnull=True, status=S.PENDING)
        .select_related("closure__account")
        .order_by("-pk")[:count]
    )
    Refund.objects.filter(pk__in=[refund.pk for refund in refunds]).update(
        status=S.VOID, status_reason="Funds held: Moved away"
    )
    HeldFunds.objects.bulk_create(
        HeldFunds(
            closure=refund.closure,
            refund=refund,
            amount_cents=refund.amount_cents,
            held_since=now,
            reason="Moved away",
            status_changed_at=now,
        )
        for refund in refunds
    )
    HolderNotice.objects.bulk_create(
        HolderNotice(
            kind=HolderNotice.Kind.FUNDS_HELD,
            key=f"funds_held:bulk-{refund.pk}",
            user_id=refund.closure.account.holder_id,
            closure=refund.closure,
            refund=refund,
            created_at=now,
            attempts=1,
            last_error="SMTP 451: mailbox busy, try later",
        )
        for refund in refunds
    )
