"""Rule S5.audit on PostgreSQL: the app's own login may only INSERT and SELECT on the audit trail,
its events and its seals.

In CI the whole suite runs logged in as the app role (tests/conftest.py); locally it runs
as whoever DATABASE_URL names, and these tests first apply the app role's grants with
`create_db_roles`. Either way they log in as the app role for real (a second connection,
not SET ROLE) and try what someone holding the app's login would.
"""

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from portal.audit import audit_seal_pending
from portal.models import AuditEvent, AuditSeal
from refunds.services import transitions as t
from tests import helpers
from tests.factories import UserFactory
from tests.factories.refunds import RefundFactory
from tests.helpers import app_role_login, postgres_only

pytestmark = [*postgres_only, pytest.mark.django_db(transaction=True)]

APP_ROLE = helpers.APP_LOGIN


@pytest.fixture
def app_login():
    """A connection logged in as the app role, with one audited, sealed change to find."""
    clerk = UserFactory(staff=True)
    t.refund_mark_issued(refund=RefundFactory(), actor=clerk, check_number="9301")
    audit_seal_pending(at=timezone.now())
    with app_role_login() as app:
        yield app


def _refusals(table):
    trigger = f"{table}_append_only"
    return [
        (f"ALTER TABLE {table} DISABLE TRIGGER {trigger}", "must be owner"),
        (f"DROP TRIGGER {trigger} ON {table}", "must be owner"),
        (f"ALTER TABLE {table} ADD COLUMN note text", "must be owner"),
        (f"TRUNCATE {table}", "permission denied"),
        (f"UPDATE {table} SET key_id = 'edited'", "permission denied"),  # noqa: S608
        (f"DELETE FROM {table}", "permission denied"),  # noqa: S608
    ]


REFUSAL_IDS = ["disable-trigger", "drop-trigger", "alter-table", "truncate", "update", "delete"]


@pytest.mark.parametrize("sql, refusal", _refusals("portal_auditevent"), ids=REFUSAL_IDS)
def test_the_app_role_cannot_change_the_audit_trail(app_login, sql, refusal):
    before = list(AuditEvent.objects.values_list("pk", "hash"))
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match=refusal):
        app_login.execute(sql)
    assert list(AuditEvent.objects.values_list("pk", "hash")) == before
    assert len(before) == 1


@pytest.mark.parametrize("sql, refusal", _refusals("portal_auditseal"), ids=REFUSAL_IDS)
def test_the_app_role_cannot_change_the_seals(app_login, sql, refusal):
    before = list(AuditSeal.objects.values_list("pk", "events", "hash"))
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match=refusal):
        app_login.execute(sql)
    assert list(AuditSeal.objects.values_list("pk", "events", "hash")) == before
    assert [events for _pk, events, _hash in before] == [1]


def test_the_app_role_can_read_and_append(app_login):
    audit_seal = AuditSeal.objects.get()
    count = app_login.execute("SELECT count(*) FROM portal_auditevent").fetchone()[0]
    app_login.execute(
        "INSERT INTO portal_auditevent (occurred_at, actor_label, action, object_type, "
        "object_id, object_repr, before, after, reason, hash, key_id) "
        "VALUES (now(), 'system', 'test.append', 'x', '1', 'x', '{}', '{}', '', %s, 'dev')",
        ["f" * 64],
    )
    app_login.execute(
        "INSERT INTO portal_auditseal (first_event_id, last_event_id, events, digest, "
        "prev_hash, sealed_at, key_id, hash) VALUES (%s, %s, 1, %s, %s, now(), 'dev', %s)",
        [
            audit_seal.last_event_id + 1,
            audit_seal.last_event_id + 1,
            "d" * 64,
            audit_seal.hash,
            "e" * 64,
        ],
    )
    assert count == 1
    assert AuditEvent.objects.filter(action="test.append").count() == 1
    assert AuditSeal.objects.count() == 2
    # and it works with the rest of the portal's tables as usual
    app_login.execute("UPDATE refunds_refund SET status = status")


@pytest.mark.skipif(not helpers.APP_ROLE, reason="PORTAL_TEST_APP_ROLE is not set (CI sets it)")
def test_the_suite_itself_runs_as_the_app_role():
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == APP_ROLE
