"""Final Direct Bill statements (SPEC E5, §4): issued after the hold, due 20 days later;
payments, past due, written off; a bill the holder recognises."""

import datetime as dt

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import DirectBillStatement
from portal.audit import audit_event_open
from portal.business_calendar import business_date
from portal.models import AuditEvent
from refunds.models import Closure
from refunds.roles import AUDITOR, REFUND_OPERATIONS
from refunds.services.statements import (
    StatementRefused,
    final_statement_context,
    final_statement_issue,
    statement_mark_past_due,
    statement_record_payment,
    statement_write_off,
)
from tests.factories import DirectBillChargeFactory, DirectBillFactory, UserFactory
from tests.factories.refunds import ClosureFactory, FinalStatementFactory

pytestmark = pytest.mark.django_db

T = DirectBillStatement.Status
NOW = timezone.now()
TODAY = business_date(NOW)


@pytest.fixture
def clerk():
    return UserFactory(staff=True)


@pytest.fixture
def held_closure():
    """A Direct Bill closure in its hold, with two unbilled charges and a billed one."""
    closure = ClosureFactory(direct_bill_held=True)
    direct_bill = DirectBillFactory(account=closure.account)
    DirectBillChargeFactory(direct_bill=direct_bill, amount_cents=315, description="Call")
    DirectBillChargeFactory(direct_bill=direct_bill, amount_cents=1575, description="Call")
    billed = FinalStatementFactory(direct_bill=direct_bill, is_final=False, amount_cents=900)
    DirectBillChargeFactory(direct_bill=direct_bill, amount_cents=900, statement=billed)
    return closure


def test_the_final_statement_waits_for_the_hold(held_closure):
    with pytest.raises(StatementRefused, match="held until"):
        final_statement_issue(closure=held_closure, at=NOW + dt.timedelta(days=6))
    held_closure.refresh_from_db()
    assert held_closure.final_statement is None


def test_after_the_hold_the_unbilled_charges_go_on_a_final_statement_due_in_20_days(
    held_closure,
):
    at = NOW + dt.timedelta(days=8)
    statement = final_statement_issue(closure=held_closure, at=at)
    day = business_date(at)
    assert (statement.amount_cents, statement.statement_date) == (1890, day)
    assert statement.due_date == day + dt.timedelta(days=20)
    assert statement.is_final and statement.status == T.ISSUED
    assert sorted(statement.charges.values_list("amount_cents", flat=True)) == [315, 1575]
    held_closure.refresh_from_db()
    assert held_closure.final_statement == statement
    assert held_closure.direct_bill_outcome == Closure.DirectBillOutcome.FINAL_STATEMENT
    assert statement.direct_bill.closed_at == at
    # run again (the daily job twice): the same statement
    assert final_statement_issue(closure=held_closure, at=at) == statement
    assert AuditEvent.objects.filter(action="closure.direct_bill_settled").count() == 1


def test_with_nothing_outstanding_direct_bill_closes_with_no_invoice():
    closure = ClosureFactory(direct_bill_held=True)
    DirectBillFactory(account=closure.account)
    assert final_statement_issue(closure=closure, at=NOW + dt.timedelta(days=9)) is None
    closure.refresh_from_db()
    assert closure.direct_bill_outcome == Closure.DirectBillOutcome.CLOSED_NO_INVOICE


def test_payments_make_a_statement_partially_paid_then_paid(clerk):
    statement = FinalStatementFactory(amount_cents=1890)
    statement = statement_record_payment(
        statement=statement, actor=clerk, amount_cents=890, paid_at=NOW
    )
    assert statement.status == T.PARTIALLY_PAID
    with pytest.raises(StatementRefused, match=r"\$10.01 is more than the \$10.00 still owed"):
        statement_record_payment(statement=statement, actor=clerk, amount_cents=1001, paid_at=NOW)
    statement = statement_record_payment(
        statement=statement, actor=clerk, amount_cents=1000, paid_at=NOW + dt.timedelta(hours=1)
    )
    assert statement.status == T.PAID
    with pytest.raises(StatementRefused, match="takes no more payments"):
        statement_record_payment(statement=statement, actor=clerk, amount_cents=1, paid_at=NOW)
    assert list(statement.payments.values_list("amount_cents", flat=True)) == [890, 1000]
    events = AuditEvent.objects.filter(action="statement.payment_recorded")
    assert [e.after["status"] for e in events] == ["partially_paid", "paid"]


def test_the_same_payment_recorded_twice_is_kept_once(clerk):
    statement = FinalStatementFactory()
    for _ in range(2):
        statement_record_payment(statement=statement, actor=clerk, amount_cents=500, paid_at=NOW)
    assert statement.payments.count() == 1
    assert AuditEvent.objects.filter(action="statement.payment_recorded").count() == 1


def test_past_due_only_after_the_due_date_and_not_when_paid(clerk):
    statement = FinalStatementFactory()
    on_due_date = timezone.make_aware(
        dt.datetime.combine(statement.due_date, dt.time(12)), timezone.get_current_timezone()
    )
    with pytest.raises(StatementRefused, match="past due from"):
        statement_mark_past_due(statement=statement, at=on_due_date)
    after = on_due_date + dt.timedelta(days=1)
    assert statement_mark_past_due(statement=statement, at=after).status == T.PAST_DUE
    assert statement_mark_past_due(statement=statement, at=after).status == T.PAST_DUE
    assert AuditEvent.objects.filter(action="statement.past_due").count() == 1
    # a partial payment leaves it past due; paying the rest makes it paid
    statement_record_payment(statement=statement, actor=clerk, amount_cents=100, paid_at=NOW)
    statement.refresh_from_db()
    assert statement.status == T.PAST_DUE
    statement_record_payment(statement=statement, actor=clerk, amount_cents=1790, paid_at=NOW)
    statement.refresh_from_db()
    assert statement.status == T.PAID
    with pytest.raises(StatementRefused, match="is paid; it cannot become past due"):
        statement_mark_past_due(statement=statement, at=after)


def test_write_off_needs_a_reason_and_is_final(clerk):
    statement = FinalStatementFactory(past_its_due_date=True)
    with pytest.raises(StatementRefused, match="reason"):
        statement_write_off(statement=statement, actor=clerk, reason=" ")
    statement = statement_write_off(statement=statement, actor=clerk, reason="Holder deceased")
    assert statement.status == T.WRITTEN_OFF
    statement_write_off(statement=statement, actor=clerk, reason="Holder deceased")  # again
    event = AuditEvent.objects.get(action="statement.written_off")
    reason = audit_event_open(event)["reason"]
    assert (reason, event.after["written_off_cents"]) == ("Holder deceased", 1890)
    with pytest.raises(StatementRefused):
        statement_record_payment(statement=statement, actor=clerk, amount_cents=1, paid_at=NOW)


def test_the_statement_email_reads_as_a_bill(held_closure):
    statement = final_statement_issue(closure=held_closure, at=NOW + dt.timedelta(days=8))
    holder = held_closure.account.holder
    context = {
        **final_statement_context(statement),
        "user": holder,
        "PORTAL_NAME": settings.PORTAL_NAME,
        "SUPPORT_PHONE": settings.SUPPORT_PHONE,
    }
    subject = render_to_string("emails/final_statement.subject.txt", context).strip()
    text = render_to_string("emails/final_statement.txt", context)
    html = render_to_string("emails/final_statement.html", context)
    due = statement.due_date.strftime("%B %-d, %Y")
    assert subject == f"Your final Direct Bill statement: $18.90 due {due}"
    for body in (text, html):
        assert held_closure.account.number in body
        assert statement.statement_date.strftime("%B %-d, %Y") in body
        assert "$3.15" in body and "$15.75" in body and "$9.00" not in body
        assert "Amount due" in body and "$18.90" in body and due in body
        assert "How to pay" in body and settings.SUPPORT_PHONE in body


@pytest.fixture
def statement_page(signed_in):
    def _page(role, statement, tool, data=None):
        client = signed_in(role)
        url = reverse(
            "admin:accounts_directbillstatement_actions",
            kwargs={"pk": statement.pk, "tool": tool},
        )
        return client.post(url, data) if data is not None else client.get(url)

    return _page


def test_refund_operations_record_a_payment_in_the_admin(statement_page):
    statement = FinalStatementFactory(amount_cents=1890)
    response = statement_page(
        REFUND_OPERATIONS,
        statement,
        "record_payment",
        {"apply": "1", "amount": "18.90", "paid_at": "2026-11-20T14:30"},
    )
    assert response.status_code == 302
    payment = statement.payments.get()
    assert payment.amount_cents == 1890
    # typed in business time (Chicago, UTC-6 in November)
    assert payment.paid_at == dt.datetime(2026, 11, 20, 20, 30, tzinfo=dt.timezone.utc)
    statement.refresh_from_db()
    assert statement.status == T.PAID


def test_an_auditor_may_print_a_statement_but_not_move_it(statement_page):
    statement = FinalStatementFactory()
    printed = statement_page(AUDITOR, statement, "print_statement")
    assert printed.status_code == 200 and b"How to pay" in printed.content
    refused = statement_page(AUDITOR, statement, "write_off", {"apply": "1", "reason": "x"})
    assert refused.status_code == 403
    statement.refresh_from_db()
    assert statement.status == T.ISSUED


def test_the_statement_list_filters_final_statements_by_status(signed_in):
    final = FinalStatementFactory()
    FinalStatementFactory(is_final=False)
    FinalStatementFactory(past_its_due_date=True, status=T.PAST_DUE)
    client = signed_in(REFUND_OPERATIONS)
    changelist = reverse("admin:accounts_directbillstatement_changelist")
    page = client.get(changelist, {"is_final__exact": "1", "status__exact": "issued"})
    assert [s.pk for s in page.context["cl"].result_list] == [final.pk]
