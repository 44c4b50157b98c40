"""Rule S3 for auditors: `verify_refunds` finds every refund the portal did not make or
that pays out other money than its closure owes, and passes the ones it made."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from portal.actors import SYSTEM
from portal.audit import AuditAction, audit_record
from refunds.models import Refund
from refunds.services import closure_confirm
from refunds.services.transitions import refund_mark_issued, refund_mark_returned, refund_reissue
from tests.factories import AdvanceConnectFactory, LedgerEntryFactory
from tests.factories.refunds import ClosureFactory, RefundFactory

pytestmark = pytest.mark.django_db


def _verify():
    out = io.StringIO()
    try:
        call_command("verify_refunds", stdout=out)
    except CommandError as refused:
        return 1, str(refused).splitlines()
    return 0, out.getvalue().splitlines()


def _audited(refund, **after):
    """`refund` with the creation event the portal writes, recording `after`."""
    with transaction.atomic():
        audit_record(
            actor=SYSTEM,
            action=AuditAction.REFUND_CREATED,
            target=refund,
            after={"method": refund.method, "amount_cents": refund.amount_cents, **after},
        )
    return refund


@pytest.fixture
def reissued():
    """A check the portal made at closure, returned and reissued to a corrected address."""
    advance_connect = AdvanceConnectFactory()
    LedgerEntryFactory(advance_connect=advance_connect, amount_cents=4250, by_mail=True)
    closure = closure_confirm(account=advance_connect.account, actor=SYSTEM)
    check = closure.refunds.get()
    refund_mark_issued(refund=check, actor=SYSTEM, check_number="880001")
    refund_mark_returned(refund=check, actor=SYSTEM, reason="Moved away")
    return refund_reissue(
        refund=check,
        actor=SYSTEM,
        line1="9 NEW RD",
        city="AUSTIN",
        state="TX",
        zip_code="78702",
        reason="Holder moved",
    )


def test_the_refunds_the_portal_made_are_backed(reissued):
    assert Refund.objects.count() == 2
    assert reissued.replaces.amount_cents == reissued.amount_cents == 4250
    assert _verify() == (0, ["Every refund is backed by the records."])


def test_a_refund_written_straight_into_the_database_is_not_backed(reissued):
    forged = RefundFactory(amount_cents=99900, closure__refund_cents=99900)
    assert _verify() == (
        1,
        [
            "1 refund(s) not backed by the records:",
            f"- refund {forged.pk} ({forged.closure.reference}): "
            "no audited creation: the portal did not make it",
        ],
    )


def test_a_refund_that_is_not_what_was_audited_is_not_backed():
    refund = _audited(RefundFactory(amount_cents=4250), method="card", amount_cents=1250)
    assert _verify() == (
        1,
        [
            "1 refund(s) not backed by the records:",
            f"- refund {refund.pk} ({refund.closure.reference}): "
            "made as a card refund of $12.50, now a check refund of $42.50",
        ],
    )


def test_money_refunded_twice_is_not_backed():
    closure = ClosureFactory(refund_cents=1000)
    original = _audited(RefundFactory(closure=closure, amount_cents=4250))
    replacement = _audited(RefundFactory(closure=closure, replaces=original, amount_cents=8500))
    assert _verify() == (
        1,
        [
            "2 refund(s) not backed by the records:",
            f"- refund {original.pk} ({closure.reference}): refunds $42.50; the closure "
            "refunds $10.00",
            f"- refund {replacement.pk} ({closure.reference}): refunds $85.00; it replaces "
            "a refund of $42.50",
        ],
    )


def test_the_report_lists_the_first_hundred_and_counts_the_rest():
    for _ in range(103):
        RefundFactory()
    code, report = _verify()
    assert code == 1
    assert report[0] == "103 refund(s) not backed by the records:"
    assert len([line for line in report if line.startswith("- refund ")]) == 100
    assert report[-1] == "... and 3 more"
