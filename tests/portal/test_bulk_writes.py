"""issue 13: the sweeps' fast writes. `bulk_insert` stores exactly what `bulk_create`
stores (on PostgreSQL by COPY), and `__in` with many ids finds exactly what Django's
`IN (...)` finds (on PostgreSQL as one array parameter)."""

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from accounts.models import CustomerAccount, LedgerEntry, PurchaseMethod
from portal import db
from portal.actors import SYSTEM
from portal.audit import AuditAction, AuditEntry, audit_records
from portal.db import bulk_insert
from portal.lookups import ARRAY_FROM
from refunds.models import Closure, Refund
from tests.factories import AdvanceConnectFactory, CustomerAccountFactory
from tests.factories.refunds import ClosureFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def copy_from_one_row(monkeypatch):
    """Every write below goes the sweeps' way (COPY on PostgreSQL), whatever its size."""
    monkeypatch.setattr(db, "COPY_FROM", 1)


AT = dt.datetime(2026, 11, 27, 15, 30, tzinfo=dt.timezone.utc)


def _refund(closure, **fields):
    values = {
        "closure": closure,
        "method": Refund.Method.CHECK,
        "amount_cents": 4_321,
        "created_at": AT,
        "status_changed_at": AT,
        "due_date": dt.date(2026, 12, 18),
        "needs_review": True,
        "payee_name": "Rosa Díaz",
        "address_line1": "1200 E 6TH ST",
        "address_city": "AUSTIN",
        "address_state": "TX",
        "address_zip": "78702",
    }
    return Refund(**{**values, **fields})


def _stored(refund):
    row = model_to_dict(Refund.objects.get(pk=refund.pk))
    row.pop("id")
    return row


def test_bulk_insert_stores_what_bulk_create_stores_and_sets_the_ids():
    closures = [ClosureFactory() for _ in range(3)]
    made = bulk_insert([_refund(closure) for closure in closures[:2]])
    [reference] = Refund.objects.bulk_create([_refund(closures[2])])

    assert [refund.pk for refund in made] == sorted(refund.pk for refund in made)
    assert all(not refund._state.adding for refund in made)
    for refund, closure in zip(made, closures, strict=False):
        assert _stored(refund) == {**_stored(reference), "closure": closure.pk}
    assert Refund.objects.get(pk=made[0].pk).created_at == AT


def test_bulk_insert_prepares_what_it_cannot_copy_as_it_is():
    """A zoned datetime, a date-time for a date column: Django's preparation, not the
    raw value (rows would otherwise differ from `bulk_create`'s)."""
    closure = ClosureFactory()
    eastern = dt.timezone(dt.timedelta(hours=-5))
    [refund] = bulk_insert(
        [_refund(closure, created_at=AT.astimezone(eastern), status_changed_at=AT)]
    )
    assert Refund.objects.get(pk=refund.pk).created_at == AT


def test_bulk_insert_refuses_money_as_a_float_and_writes_nothing():
    closure = ClosureFactory()
    with pytest.raises(TypeError, match="never a float"), transaction.atomic():
        bulk_insert([_refund(closure), _refund(closure, amount_cents=12.5)])
    assert not Refund.objects.filter(closure=closure).exists()


def test_bulk_insert_raises_djangos_integrity_error_and_is_counted_as_a_query():
    advance_connect = AdvanceConnectFactory()

    def deposit(cents):
        return LedgerEntry(
            advance_connect=advance_connect,
            kind=LedgerEntry.Kind.DEPOSIT,
            amount_cents=cents,
            occurred_at=AT,
            method=PurchaseMethod.MAIL,
        )

    with pytest.raises(IntegrityError), transaction.atomic():
        bulk_insert([deposit(-1)])
    with CaptureQueriesContext(connection) as queries:
        bulk_insert([deposit(500)])
    written = [query["sql"] for query in queries.captured_queries]
    writes = [sql for sql in written if sql.startswith(("COPY", "INSERT"))]
    assert [sql.split(" ")[0] for sql in writes if "accounts_ledgerentry" in sql] == [
        "COPY" if connection.vendor == "postgresql" else "INSERT"
    ]
    assert LedgerEntry.objects.filter(advance_connect=advance_connect).count() == 1


def test_audit_events_written_in_bulk_read_back_as_written():
    closures = [ClosureFactory() for _ in range(3)]
    with transaction.atomic():
        events = audit_records(
            [AuditEntry(SYSTEM, AuditAction.CLOSURE_CONFIRMED, closure) for closure in closures]
        )
    stored = {
        event.pk: event
        for event in type(events[0]).objects.filter(pk__in=[event.pk for event in events])
    }
    assert [stored[event.pk].hash for event in events] == [event.hash for event in events]
    assert [stored[event.pk].object_id for event in events] == [str(c.pk) for c in closures]


@pytest.mark.parametrize("count", [ARRAY_FROM - 1, ARRAY_FROM, 3 * ARRAY_FROM])
def test_in_with_many_ids_finds_the_same_rows(count):
    accounts = [CustomerAccountFactory() for _ in range(count + 2)]
    wanted = [account.pk for account in accounts[:count]]
    closures = {ClosureFactory(account=account, closed_at=AT).pk for account in accounts[:count]}
    ClosureFactory(account=accounts[-1], closed_at=AT)

    by_id = CustomerAccount.objects.filter(pk__in=[*wanted, None, wanted[0]])
    by_relation = Closure.objects.filter(account__in=wanted)
    by_instances = Closure.objects.filter(account__in=accounts[:count])
    by_column = Closure.objects.filter(account_id__in=wanted)
    by_text = Closure.objects.filter(account_id__in=[str(pk) for pk in wanted])

    assert sorted(account.pk for account in by_id) == sorted(wanted)
    for closures_found in (by_relation, by_instances, by_column, by_text):
        assert {closure.pk for closure in closures_found} == closures
    as_array = "= ANY(" in str(by_column.query)
    assert as_array == (connection.vendor == "postgresql" and count >= ARRAY_FROM)


def test_in_with_text_or_a_subquery_keeps_djangos_sql():
    accounts = [CustomerAccountFactory() for _ in range(ARRAY_FROM)]
    numbers = [account.number for account in accounts]
    by_number = CustomerAccount.objects.filter(number__in=numbers)
    by_subquery = Closure.objects.filter(account__in=CustomerAccount.objects.filter(pk__in=[]))

    assert by_number.count() == ARRAY_FROM
    assert "= ANY(" not in str(by_number.query)
    assert list(by_subquery) == []


def test_a_few_rows_go_in_by_one_insert(monkeypatch):
    """A holder's own closure writes a row or two per table: one INSERT, not the
    sequence and then COPY."""
    monkeypatch.setattr(db, "COPY_FROM", 10)
    closures = [ClosureFactory() for _ in range(2)]
    with CaptureQueriesContext(connection) as queries:
        made = bulk_insert([_refund(closure) for closure in closures])
    assert [query["sql"].split(" ")[0] for query in queries.captured_queries] == ["INSERT"]
    assert Refund.objects.filter(pk__in=[refund.pk for refund in made]).count() == 2


def test_text_that_means_something_to_copy_is_stored_as_typed():
    """A holder may type a tab, a line break, a backslash or COPY's own NULL marker into
    a name or an address: COPY stores each as typed, as an INSERT would."""
    closure = ClosureFactory()
    typed = "Ann\tO'Brien\nde \\N la Cruz \\ \\t"
    [refund] = bulk_insert([_refund(closure, payee_name=typed, address_line2="\\N")])
    stored = Refund.objects.get(pk=refund.pk)
    assert (stored.payee_name, stored.address_line2) == (typed, "\\N")
