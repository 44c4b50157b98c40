"""The daily sweeps (SPEC E5, §3, §4). Each is safe to run twice or on two hosts at once:
rows are claimed with SKIP LOCKED, one by one (`portal.db.for_each_locked`) or in batches
(`portal.db.for_each_batch_locked`), and every service it calls re-checks under the lock."""

import datetime as dt

from django.conf import settings
from django.utils import timezone

from accounts.models import DirectBillStatement
from portal.actors import SYSTEM
from portal.business_calendar import add_calendar_days, business_date
from portal.db import BATCH_SIZE, for_each_batch_locked, for_each_locked

from ..models import Closure, HolderNotice, Refund
from ..states import STATEMENT_OPEN
from .notices import holder_notice_queue
from .statements import final_statement_issue, statement_mark_past_due
from .transitions import refunds_mark_stale


def direct_bill_holds_process(
    *, now: dt.datetime | None = None, batch_size: int = BATCH_SIZE
) -> list[Closure]:
    """Rule E5: closures whose 7-day hold has passed get their final statement, or close
    with no invoice when nothing is outstanding. Run daily, every held closure is
    settled on day 7, and by day 10 at the latest if a run was missed. Closures are
    claimed in batches; each is settled by `final_statement_issue` inside its batch's
    transaction."""
    now = now or timezone.now()
    due = Closure.objects.select_related("account__holder").filter(
        direct_bill_outcome=Closure.DirectBillOutcome.HELD,
        direct_bill_hold_from__lte=business_date(now),
    )

    def settle(closure: Closure) -> Closure:
        statement = final_statement_issue(closure=closure, at=now)
        closure.refresh_from_db()
        # The holder is emailed either way: the final bill, or that nothing is owed.
        kind = (
            HolderNotice.Kind.FINAL_STATEMENT
            if statement is not None
            else HolderNotice.Kind.DIRECT_BILL_CLOSED
        )
        holder_notice_queue(kind=kind, key=f"{kind}:{closure.pk}", closure=closure, at=now)
        return closure

    return for_each_batch_locked(
        due, lambda closures: [settle(closure) for closure in closures], size=batch_size
    )


def statements_mark_past_due(*, now: dt.datetime | None = None) -> list[DirectBillStatement]:
    """SPEC §4: an unpaid statement becomes past due the day after its due date."""
    now = now or timezone.now()
    overdue = DirectBillStatement.objects.filter(
        status__in=STATEMENT_OPEN - {DirectBillStatement.Status.PAST_DUE},
        due_date__lt=business_date(now),
    )
    return for_each_locked(
        overdue, lambda statement: statement_mark_past_due(statement=statement, at=now)
    )


def stale_checks_mark(
    *, now: dt.datetime | None = None, batch_size: int = BATCH_SIZE
) -> list[Refund]:
    """SPEC §3: a check uncashed `STALE_CHECK_DAYS` after issue goes stale, a batch of
    checks at a time (`refunds_mark_stale`)."""
    now = now or timezone.now()
    issued_before = add_calendar_days(business_date(now), -settings.STALE_CHECK_DAYS)
    stale = Refund.objects.select_related("closure__account__holder").filter(
        method=Refund.Method.CHECK,
        status__in=[Refund.Status.ISSUED, Refund.Status.MAILED],
        issued_on__lte=issued_before,
    )
    return for_each_batch_locked(
        stale,
        lambda refunds: refunds_mark_stale(refunds, actor=SYSTEM, at=now),
        size=batch_size,
    )
