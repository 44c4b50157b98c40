"""SPEC §5: the audit trail is append-only and tamper-evident."""

import io
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from portal.models import AuditEvent
from refunds.services import transitions as t
from tests.factories import UserFactory
from tests.factories.refunds import RefundFactory

pytestmark = pytest.mark.django_db

TRIGGER = "portal_auditevent_append_only"
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the trigger that refuses changes is PostgreSQL's"
)


@pytest.fixture
def trail():
    """Four changes to a check, four audit rows."""
    clerk = UserFactory(staff=True)
    refund = RefundFactory()
    t.refund_mark_issued(refund=refund, actor=clerk, check_number="9001")
    t.refund_mark_mailed(refund=refund, actor=clerk)
    t.refund_mark_returned(refund=refund, actor=clerk, reason="Moved")
    t.refund_void(refund=refund, actor=clerk, reason="Holder asked")
    return list(AuditEvent.objects.order_by("id"))


def verify():
    out = io.StringIO()
    call_command("verify_audit_trail", stdout=out)
    return out.getvalue().strip()


def test_one_row_per_change_in_order(trail):
    assert [event.action for event in trail] == [
        "refund.issued",
        "refund.mailed",
        "refund.returned",
        "refund.void",
    ]
    assert [event.prev_hash for event in trail[1:]] == [event.hash for event in trail[:-1]]


def test_verify_audit_trail_says_intact(trail):
    assert verify() == "Audit trail intact, 4 events."


def _behind_the_apps_back(sql, params):
    """What a DBA could do: switch the protection off, change a row, switch it on."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Run the deferred foreign key checks first: ALTER TABLE waits for none.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE portal_auditevent DISABLE TRIGGER {TRIGGER}")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE portal_auditevent ENABLE TRIGGER {TRIGGER}")


def test_verify_audit_trail_finds_a_row_edited_behind_the_apps_back(trail):
    _behind_the_apps_back(
        "UPDATE portal_auditevent SET reason = %s WHERE id = %s", ["Printer jam", trail[2].pk]
    )
    with pytest.raises(CommandError) as broken:
        verify()
    assert str(broken.value) == (
        f"Audit trail broken at event {trail[2].pk} (entry 3 in order): "
        "it was changed after it was written."
    )


def test_verify_audit_trail_finds_a_deleted_row(trail):
    _behind_the_apps_back("DELETE FROM portal_auditevent WHERE id = %s", [trail[1].pk])
    with pytest.raises(CommandError, match=f"broken at event {trail[2].pk}.*does not link"):
        verify()


def test_the_app_cannot_change_or_delete_an_event(trail):
    event = trail[0]
    event.reason = "edited"
    with pytest.raises(Exception, match="never changed"):
        event.save()
    with pytest.raises(Exception, match="cannot be changed"):
        AuditEvent.objects.filter(pk=event.pk).update(reason="edited")
    with pytest.raises(Exception, match="never deleted"):
        event.delete()


@on_postgresql
@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    ["UPDATE portal_auditevent SET reason = 'edited'", "DELETE FROM portal_auditevent"],
)
def test_postgresql_refuses_update_and_delete_whoever_asks(trail, sql):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert AuditEvent.objects.count() == 4


def test_a_zoned_time_is_hashed_as_stored(db):
    """An `at` in the business zone must verify once read back in UTC."""
    clerk = UserFactory(staff=True)
    chicago = timezone.now().astimezone(ZoneInfo("America/Chicago"))
    t.refund_mark_issued(refund=RefundFactory(), actor=clerk, check_number="9002", at=chicago)
    assert verify() == "Audit trail intact, 1 events."
