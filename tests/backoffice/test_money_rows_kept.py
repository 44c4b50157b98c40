"""Money rows stay as written even to someone holding the app's database login (rule S3:
a refund's amount never changes, void and reissue instead), as the audit trail does.

Each test logs in as the app role for real and tries what that person could: change an
amount, send a check elsewhere, restamp a settled call, delete a row. PostgreSQL refuses
(portal.fixed_rows) and the row reads as before; what the portal itself does to those
rows (a status move, a check number printed, a call settled, erasure once done) still
goes through.
"""

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import DirectBillCharge, DirectBillPayment, DirectBillStatement, LedgerEntry
from refunds.models import Closure, HeldFunds, Refund
from tests.factories.accounts import (
    DirectBillChargeFactory,
    DirectBillPaymentFactory,
    DirectBillStatementFactory,
    LedgerEntryFactory,
)
from tests.factories.refunds import ClosureFactory, HeldFundsFactory, RefundFactory
from tests.helpers import app_role_login

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the triggers that keep money rows, and the app's login, are PostgreSQL's",
    ),
    pytest.mark.django_db(transaction=True),
]


def _row(model, pk):
    return model._base_manager.filter(pk=pk).values().get()


def _none(row):
    return []


# (what is tried, the row it is tried on, the UPDATE's SET clause, its parameters)
REFUSED_UPDATES = [
    ("refund amount", RefundFactory, "amount_cents = 99999", _none),
    ("refund method", lambda: RefundFactory(card=True), "method = 'check'", _none),
    ("pending check sent elsewhere", RefundFactory, "address_line1 = '9 Mule Rd'", _none),
    ("pending check to another payee", RefundFactory, "payee_name = 'Someone Else'", _none),
    (
        "mailed check sent elsewhere",
        lambda: RefundFactory(mailed=True),
        "address_zip = '10001'",
        _none,
    ),
    ("printed check renumbered", lambda: RefundFactory(issued=True), "check_number = '777'", _none),
    (
        "card refund to another card",
        lambda: RefundFactory(card=True),
        "card_token = 'tok_x'",
        _none,
    ),
    (
        "refund moved to another closure",
        RefundFactory,
        "closure_id = %s",
        lambda row: [ClosureFactory().pk],
    ),
    ("closure refund", ClosureFactory, "refund_cents = refund_cents + 100", _none),
    ("closure deduction", ClosureFactory, "deducted_cents = 0, shortfall_cents = 5", _none),
    ("ledger amount", LedgerEntryFactory, "amount_cents = 1", _none),
    ("ledger kind", LedgerEntryFactory, "kind = 'refund'", _none),
    (
        "settled call restamped",
        lambda: LedgerEntryFactory(settled_call=True),
        "settled_at = settled_at + interval '1 day'",
        _none,
    ),
    ("statement amount", DirectBillStatementFactory, "amount_cents = 1", _none),
    ("statement due date", DirectBillStatementFactory, "due_date = due_date + 30", _none),
    ("payment amount", DirectBillPaymentFactory, "amount_cents = amount_cents * 10", _none),
    ("charge amount", DirectBillChargeFactory, "amount_cents = 0", _none),
    (
        "billed charge moved to another statement",
        lambda: DirectBillChargeFactory(billed=True),
        "statement_id = %s",
        lambda row: [DirectBillStatementFactory(direct_bill=row.direct_bill).pk],
    ),
    ("held funds amount", HeldFundsFactory, "amount_cents = 1", _none),
]


@pytest.mark.parametrize(
    "make, assignment, params",
    [case[1:] for case in REFUSED_UPDATES],
    ids=[case[0] for case in REFUSED_UPDATES],
)
def test_the_app_login_cannot_change_what_a_money_row_says(make, assignment, params):
    row = make()
    model = type(row)
    before = _row(model, row.pk)
    with (
        app_role_login() as app,
        pytest.raises(psycopg.errors.IntegrityConstraintViolation, match="UPDATE on .* refused"),
    ):
        app.execute(
            f"UPDATE {model._meta.db_table} SET {assignment} WHERE id = %s",  # noqa: S608
            [*params(row), row.pk],
        )
    assert _row(model, row.pk) == before


@pytest.mark.parametrize(
    "make",
    [
        RefundFactory,
        ClosureFactory,
        HeldFundsFactory,
        LedgerEntryFactory,
        DirectBillStatementFactory,
        DirectBillChargeFactory,
        DirectBillPaymentFactory,
    ],
    ids=lambda make: make._meta.model.__name__,
)
def test_the_app_login_cannot_delete_a_money_row(make):
    row = make()
    model = type(row)
    with (
        app_role_login() as app,
        pytest.raises(psycopg.errors.IntegrityConstraintViolation, match="DELETE on .* refused"),
    ):
        app.execute(f"DELETE FROM {model._meta.db_table} WHERE id = %s", [row.pk])  # noqa: S608
    assert model._base_manager.filter(pk=row.pk).exists()


def test_what_the_portal_does_to_money_rows_still_goes_through():
    pending = RefundFactory()
    cashed = RefundFactory(mailed=True)
    call = LedgerEntryFactory(unsettled_call=True)
    closure = ClosureFactory()
    at = timezone.now()
    with app_role_login() as app:
        # SPEC §3: a check is printed (its number set once) and mailed.
        app.execute(
            "UPDATE refunds_refund SET status = 'issued', check_number = '5501', "
            "issued_on = current_date WHERE id = %s",
            [pending.pk],
        )
        # rule B7: once a check is cashed, erasure blanks where it went.
        app.execute("UPDATE refunds_refund SET status = 'cashed' WHERE id = %s", [cashed.pk])
        app.execute(
            "UPDATE refunds_refund SET payee_name = 'Holder 7', address_line1 = '' WHERE id = %s",
            [cashed.pk],
        )
        # rule E3: a call charge is settled once, when it is deducted.
        app.execute("UPDATE accounts_ledgerentry SET settled_at = %s WHERE id = %s", [at, call.pk])
        # A whole-row save that writes back what is there changes nothing that is kept.
        app.execute(
            "UPDATE refunds_closure SET refund_cents = refund_cents WHERE id = %s", [closure.pk]
        )
    pending.refresh_from_db()
    cashed.refresh_from_db()
    call.refresh_from_db()
    assert (pending.status, pending.check_number) == (Refund.Status.ISSUED, "5501")
    assert (cashed.status, cashed.payee_name, cashed.address_line1) == ("cashed", "Holder 7", "")
    assert call.settled_at == at
    assert Closure.objects.get(pk=closure.pk).refund_cents == closure.refund_cents


@pytest.mark.parametrize(
    "model",
    [
        Refund,
        Closure,
        HeldFunds,
        LedgerEntry,
        DirectBillStatement,
        DirectBillCharge,
        DirectBillPayment,
    ],
    ids=lambda model: model.__name__,
)
@pytest.mark.parametrize(
    "sql", ["ALTER TABLE {t} DISABLE TRIGGER {t}_fixed", "DROP TRIGGER {t}_kept ON {t}"]
)
def test_the_app_login_cannot_take_the_guard_away(model, sql):
    table = model._meta.db_table
    with app_role_login() as app:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="must be owner"):
            app.execute(sql.format(t=table))
        names = app.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND tgenabled = 'O' "
            "AND NOT tgisinternal "
            "ORDER BY tgname",
            [table],
        ).fetchall()
    assert names == [(f"{table}_fixed",), (f"{table}_kept",)]
