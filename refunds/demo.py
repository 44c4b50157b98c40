"""The closed accounts of the demo, so staff lists are not empty: a refund in every status
of SPEC §3, final statements in every status of §4, held funds (N4), a returned check
the holder can look up and readdress (B2, B3), and the New Mexico notices already sent
(N3). Never loaded in production.

Every story is played through the services staff and the daily jobs use, at pinned
past times, so the audit trail, the emails and the rules are those of real life.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

from accounts.demo import (
    Place,
    demo_user,
    seed_direct_bill_account,
    seed_prepaid_account,
)
from accounts.models import CustomerAccount, DirectBillStatement, PurchaseMethod, User
from portal.actors import SYSTEM

from .models import Closure, Refund
from .services.card_refunds import card_refund_submit
from .services.closure import closure_confirm
from .services.held_funds import held_funds_from_refund
from .services.inactivity import inactivity_notice_email, inactivity_notices_send
from .services.statements import statement_mark_past_due, statement_record_payment
from .services.sweeps import direct_bill_holds_process
from .services.transitions import (
    card_refund_mark_settled,
    refund_mark_cashed,
    refund_mark_issued,
    refund_mark_mailed,
    refund_mark_returned,
    refund_mark_stale,
    refund_reissue,
)

DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)

# returned@demo.test: what to type on the refund status page (B2) to find the check
# that came back, and give it a new address (B3). Printed by seed_demo, in the README.
RETURNED_CHECK_REFERENCE = "CL-RTRN-CHEK"
RETURNED_CHECK_ZIP = "79902"
RETURNED_CHECK_LAST_NAME = "Whitfield"


@dataclass(frozen=True)
class Story:
    """What happened after the closure, `ago(n)` being n days before the seeding."""

    clerk: User  # the Refund operations user who made the moves
    ago: Callable[[float], dt.datetime]


def _refund(closure: Closure) -> Refund:
    return closure.refunds.get(replaces__isnull=True)


def _submit(closure: Closure) -> Refund:
    """The card refund goes to the (fake) processor an hour after the closure."""
    return card_refund_submit(refund_id=_refund(closure).pk, now=closure.closed_at + HOUR)


def _mail(refund: Refund, story: Story, *, number: str, issued: int, mailed: int) -> Refund:
    refund = refund_mark_issued(
        refund=refund, actor=story.clerk, check_number=number, at=story.ago(issued)
    )
    return refund_mark_mailed(refund=refund, actor=story.clerk, at=story.ago(mailed))


def _returned(closure: Closure, story: Story, *, number, issued, mailed, returned) -> Refund:
    refund = _mail(_refund(closure), story, number=number, issued=issued, mailed=mailed)
    return refund_mark_returned(
        refund=refund,
        actor=story.clerk,
        reason="USPS: not deliverable as addressed, unable to forward",
        at=story.ago(returned),
    )


def card_submitted(closure, story):
    _submit(closure)


def card_settled(closure, story):
    card_refund_mark_settled(refund=_submit(closure), actor=story.clerk, at=story.ago(17))


def card_failed_then_check(closure, story):
    """The card on file expired: the processor refuses and a refund check to the address
    on record replaces the card refund (SPEC §3). The check waits to be printed."""
    _submit(closure)


def check_pending(closure, story):
    """Closed two days ago: the check is still to be printed."""


def check_issued_overdue(closure, story):
    """Printed but never mailed, and its 21 days are up: overdue."""
    refund_mark_issued(
        refund=_refund(closure), actor=story.clerk, check_number="700002", at=story.ago(12)
    )


def check_mailed(closure, story):
    _mail(_refund(closure), story, number="700003", issued=8, mailed=7)


def check_cashed(closure, story):
    refund = _mail(_refund(closure), story, number="700004", issued=42, mailed=41)
    refund_mark_cashed(refund=refund, actor=story.clerk, at=story.ago(30))


def check_returned(closure, story):
    _returned(closure, story, number="700005", issued=35, mailed=34, returned=20)


def check_reissued(closure, story):
    """Returned, then reissued to the new address the holder gave support on the phone;
    the new check is in the mail."""
    returned = _returned(closure, story, number="700006", issued=55, mailed=54, returned=40)
    new_check = refund_reissue(
        refund=returned,
        actor=story.clerk,
        line1="88 RIVERSIDE DR",
        line2="UNIT 12",
        city="SAN ANTONIO",
        state="TX",
        zip_code="78210",
        reason="New address given by the holder on the phone",
        at=story.ago(38),
    )
    _mail(new_check, story, number="700007", issued=36, mailed=35)


def check_held(closure, story):
    """Returned, and no other address: the check is void and its money held (rule N4)."""
    returned = _returned(closure, story, number="700008", issued=85, mailed=84, returned=70)
    held_funds_from_refund(
        refund=returned,
        actor=story.clerk,
        reason="The check came back undeliverable and no other address is on record.",
        at=story.ago(40),
    )


def check_stale(closure, story):
    """Mailed more than 180 days ago and never cashed."""
    refund = _mail(_refund(closure), story, number="700009", issued=212, mailed=211)
    refund_mark_stale(refund=refund, actor=SYSTEM, at=story.ago(0))


def direct_bill_held(closure, story):
    """Closed three days ago: held 7 to 10 days so unbilled calls clear (rule E5)."""


def _final_statement(closure: Closure, at: dt.datetime) -> DirectBillStatement:
    """The daily Direct Bill job, run on the day the hold ends (rule E5)."""
    direct_bill_holds_process(now=at)
    closure.refresh_from_db()
    if closure.final_statement is None:  # the job bills every closure whose hold has ended
        raise ValueError(f"closure {closure.reference} got no final statement")
    return closure.final_statement


def statement_issued(closure, story):
    _final_statement(closure, closure.closed_at + 7 * DAY)


def statement_paid(closure, story):
    statement = _final_statement(closure, closure.closed_at + 7 * DAY)
    statement_record_payment(
        statement=statement,
        actor=story.clerk,
        amount_cents=statement.amount_cents,
        paid_at=story.ago(25),
    )


def statement_partly_paid(closure, story):
    statement = _final_statement(closure, closure.closed_at + 7 * DAY)
    statement_record_payment(
        statement=statement, actor=story.clerk, amount_cents=1000, paid_at=story.ago(6)
    )


def statement_past_due(closure, story):
    """Closed 60 days ago, billed on day 7, due 20 days later; the daily job marked it
    past due the day after."""
    statement = _final_statement(closure, closure.closed_at + 7 * DAY)
    statement_mark_past_due(statement=statement, at=story.ago(32))


@dataclass(frozen=True)
class ClosedHolder:
    email: str
    first_name: str
    last_name: str
    number: str
    place: Place
    closed_days_ago: int
    story: Callable[[Closure, Story], None]
    method: str = PurchaseMethod.MONEYGRAM  # of the last deposit (rule E4)
    balance_cents: int = 0
    card_token: str = ""
    unbilled: tuple[int, ...] = ()  # Direct Bill calls not yet billed; empty: AdvanceConnect
    reference: str | None = None


CARD = PurchaseMethod.ONLINE_CARD
HOUSTON = Place("TX", "America/Chicago", "2500 MAIN ST", "HOUSTON", "77002", "+17135550201")
DALLAS = Place("TX", "America/Chicago", "1500 MARILLA ST", "DALLAS", "75201", "+12145550202")
ATLANTA = Place("GA", "America/New_York", "72 MARIETTA ST NW", "ATLANTA", "30303", "+14045550203")
FRESNO = Place("CA", "America/Los_Angeles", "2300 TULARE ST", "FRESNO", "93721", "+15595550204")
TUCSON = Place("AZ", "America/Phoenix", "255 W ALAMEDA ST", "TUCSON", "85701", "+15205550205")
EL_PASO = Place(
    "TX", "America/Chicago", "1500 N MESA ST", "EL PASO", RETURNED_CHECK_ZIP, "+19155550206"
)
MACON = Place("GA", "America/New_York", "700 POPLAR ST", "MACON", "31201", "+14785550207")

CLOSED_HOLDERS = [
    ClosedHolder(
        "card-submitted@demo.test", "Tomas", "Ortega", "3000000101", HOUSTON, 1,
        card_submitted, CARD, 3875,
    ),
    ClosedHolder(
        "card-settled@demo.test", "Janelle", "Price", "3000000102", DALLAS, 20,
        card_settled, CARD, 2210,
    ),
    ClosedHolder(
        "card-failed@demo.test", "Marcus", "Lee", "3000000103", ATLANTA, 6,
        card_failed_then_check, CARD, 1645, card_token="demo_expired_card",  # noqa: S106
    ),
    ClosedHolder(
        "check-pending@demo.test", "Gloria", "Nunez", "3000000104", FRESNO, 2,
        check_pending, PurchaseMethod.WESTERN_UNION, 5120,
    ),
    ClosedHolder(
        "check-issued@demo.test", "Andre", "Wallace", "3000000105", TUCSON, 30,
        check_issued_overdue, PurchaseMethod.MAIL, 2735,
    ),
    ClosedHolder(
        "check-mailed@demo.test", "Keisha", "Brown", "3000000106", MACON, 10,
        check_mailed, PurchaseMethod.MONEYGRAM, 4480,
    ),
    ClosedHolder(
        "check-cashed@demo.test", "Luis", "Herrera", "3000000107", HOUSTON, 45,
        check_cashed, PurchaseMethod.WESTERN_UNION, 1960,
    ),
    ClosedHolder(
        "returned@demo.test", "Rosa", RETURNED_CHECK_LAST_NAME, "3000000108", EL_PASO, 40,
        check_returned, PurchaseMethod.MONEYGRAM, 6325, reference=RETURNED_CHECK_REFERENCE,
    ),
    ClosedHolder(
        "check-reissued@demo.test", "Denise", "Carter", "3000000109", DALLAS, 60,
        check_reissued, PurchaseMethod.MAIL, 3390,
    ),
    ClosedHolder(
        "held@demo.test", "Victor", "Nguyen", "3000000110", ATLANTA, 90,
        check_held, PurchaseMethod.MONEYGRAM, 7150,
    ),
    ClosedHolder(
        "check-stale@demo.test", "Paula", "Jenkins", "3000000111", TUCSON, 215,
        check_stale, PurchaseMethod.WESTERN_UNION, 2580,
    ),
    ClosedHolder(
        "bill-held@demo.test", "Henry", "Moore", "3000000112", FRESNO, 3,
        direct_bill_held, unbilled=(1260, 840, 525),
    ),
    ClosedHolder(
        "statement-issued@demo.test", "Alicia", "Ramos", "3000000113", MACON, 9,
        statement_issued, unbilled=(2100, 945),
    ),
    ClosedHolder(
        "statement-paid@demo.test", "Curtis", "Young", "3000000114", HOUSTON, 45,
        statement_paid, unbilled=(1575, 630, 420),
    ),
    ClosedHolder(
        "statement-partly-paid@demo.test", "Monica", "Flores", "3000000115", DALLAS, 20,
        statement_partly_paid, unbilled=(1890, 1155),
    ),
    ClosedHolder(
        "statement-past-due@demo.test", "Derek", "Hall", "3000000116", ATLANTA, 60,
        statement_past_due, unbilled=(2520, 735, 315),
    ),
]  # fmt: skip


def _seed_closed(spec: ClosedHolder, *, clerk, now) -> Closure:
    holder = demo_user(spec.email, spec.first_name, spec.last_name)
    closed_at = now - spec.closed_days_ago * DAY
    if spec.unbilled:
        account = seed_direct_bill_account(
            holder, number=spec.number, place=spec.place, unbilled=spec.unbilled, until=closed_at
        )
    else:
        account = seed_prepaid_account(
            holder,
            number=spec.number,
            place=spec.place,
            balance_cents=spec.balance_cents,
            method=spec.method,
            card_token=spec.card_token,
            until=closed_at,
        )
    # The holder deleted their account (D5): the same closure service as the real flow.
    closure = closure_confirm(account=account, actor=holder, at=closed_at, reference=spec.reference)
    spec.story(closure, Story(clerk=clerk, ago=lambda days: now - days * DAY))
    return closure


def seed_closed_accounts(*, clerk, now: dt.datetime) -> list[str]:
    """Each closed holder's account, closure and story, unless the holder has an
    account already (so a second run changes nothing). Returns the emails seeded."""
    with_account = set(
        CustomerAccount.objects.filter(
            holder__email__in=[spec.email for spec in CLOSED_HOLDERS]
        ).values_list("holder__email", flat=True)
    )
    seeded = []
    for spec in CLOSED_HOLDERS:
        if spec.email not in with_account:
            _seed_closed(spec, clerk=clerk, now=now)
            seeded.append(spec.email)
    return seeded


def seed_inactivity_notices(*, now: dt.datetime) -> None:
    """Rule N3: the daily New Mexico sweep as it ran 24 days ago (the 30-day notice) and
    today (the 7-day one), so the demo's New Mexico holder has both notices already.
    Each notice is emailed at the sweep's time (a notice counts from when it left), before
    the email task queued for after the commit finds it already sent."""
    for days in (24, 0):
        at = now - days * DAY
        with transaction.atomic():
            for notice in inactivity_notices_send(now=at):
                inactivity_notice_email(notice_id=notice.pk, at=at)
