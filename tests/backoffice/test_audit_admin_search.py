"""Rule S5.audit for auditors at year end: the trail's list, filters and search box answer
from its indexes, and each kind of term finds the events it names and no others."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.actors import SYSTEM
from portal.audit import AuditAction, audit_record
from portal.models import AuditEvent
from refunds.admin.audit import indexed_values
from refunds.models import Closure
from refunds.roles import AUDITOR
from tests.factories.refunds import HeldFundsFactory, RefundFactory

pytestmark = pytest.mark.django_db

TRAIL = reverse("admin:portal_auditevent_changelist")


def _record(action, target, actor=SYSTEM):
    with transaction.atomic():
        return audit_record(actor=actor, action=action, target=target)


@pytest.fixture
def trail(staff):
    """Events on two closures' refunds, held funds and closures, by a clerk and the system."""
    clerk = staff(email="clerk@example.test")
    mine, other = RefundFactory(issued=True, check_number="880123"), RefundFactory()
    held = HeldFundsFactory(closure=mine.closure, refund=mine)
    return {
        "clerk": clerk,
        "mine": mine,
        "other": other,
        "issued": _record(AuditAction.REFUND_ISSUED, mine, actor=clerk),
        "stale": _record(AuditAction.REFUND_STALE, mine),
        "held": _record(AuditAction.HELD_FUNDS_CREATED, held),
        "closed": _record(AuditAction.CLOSURE_CONFIRMED, mine.closure),
        "other_cashed": _record(AuditAction.REFUND_CASHED, other, actor=clerk),
        "other_closed": _record(AuditAction.CLOSURE_CONFIRMED, other.closure),
    }


def _found(client, **query):
    page = client.get(TRAIL, query)
    assert page.status_code == 200
    return {event.pk for event in page.context["cl"].result_list}


def _events(trail, *names):
    return {trail[name].pk for name in names}


def test_an_object_id_finds_that_objects_events_whatever_its_type(signed_in, trail):
    client = signed_in(AUDITOR)
    mine = trail["mine"]
    expected = {
        event.pk
        for event in (trail[name] for name in trail if name not in ("clerk", "mine", "other"))
        if event.object_id == str(mine.pk)
    }
    assert _events(trail, "issued", "stale") <= expected
    assert _found(client, q=str(mine.pk)) == expected
    assert _found(client, q="987654321") == set()


def test_a_check_number_finds_the_events_of_the_refund_it_was_printed_for(signed_in, trail):
    client = signed_in(AUDITOR)
    assert not AuditEvent.objects.filter(object_id="880123").exists()  # no object's id
    assert _found(client, q="880123") == _events(trail, "issued", "stale")


def test_a_closure_reference_finds_the_closure_its_refunds_and_held_funds(signed_in, trail):
    client = signed_in(AUDITOR)
    reference = trail["mine"].closure.reference
    mine = _events(trail, "issued", "stale", "held", "closed")
    assert _found(client, q=reference) == mine
    assert _found(client, q=reference.lower().replace("-", "")) == mine  # as typed on a call
    assert _found(client, q=reference[:7]) == mine  # the start of one, as it is typed
    assert _found(client, q="CL-ZZZZ-ZZZZ") == set()
    assert not Closure.objects.filter(reference="CL-ZZZZ-ZZZZ").exists()


def test_an_email_finds_what_that_staff_member_did(signed_in, trail):
    client = signed_in(AUDITOR)
    assert _found(client, q="Clerk@Example.test") == _events(trail, "issued", "other_cashed")
    assert _found(client, q="nobody@example.test") == set()


def test_an_action_is_found_by_its_code_its_start_or_its_words(signed_in, trail):
    client = signed_in(AUDITOR)
    assert _found(client, q="refund.stale") == _events(trail, "stale")
    assert _found(client, q="closure.") == _events(trail, "closed", "other_closed")
    assert _found(client, q="marked stale") == _events(trail, "stale")  # "Check marked stale"
    assert _found(client, q="Cashed") == _events(trail, "other_cashed")


def test_other_text_is_looked_for_in_the_object_and_who_did_it(signed_in, trail):
    client = signed_in(AUDITOR)
    assert _found(client, q="system") == _events(trail, "stale", "held", "closed", "other_closed")
    assert _found(client, q="clerk@exam") == set()  # not a whole email: not an actor's
    assert _found(client, q="xyzzy") == set()


def test_the_filters_offer_the_actions_and_types_on_record_in_words(signed_in, trail):
    client = signed_in(AUDITOR)
    assert indexed_values("action") == sorted(
        [
            "refund.issued",
            "refund.stale",
            "held_funds.created",
            "closure.confirmed",
            "refund.cashed",
        ]
    )
    assert indexed_values("object_type") == [
        "refunds.closure",
        "refunds.heldfunds",
        "refunds.refund",
    ]
    page = client.get(TRAIL)
    choices = {
        spec.title: [choice["display"] for choice in spec.choices(page.context["cl"])]
        for spec in page.context["cl"].filter_specs[:2]
    }
    assert choices["action"] == [
        "All",
        "Account closed",
        "Funds held",
        "Check cashed",
        "Check issued",
        "Check marked stale",
    ]
    assert choices["object type"] == [
        "All",
        "refunds.closure",
        "refunds.heldfunds",
        "refunds.refund",
    ]
    assert _found(client, action="closure.confirmed") == _events(trail, "closed", "other_closed")
    assert _found(client, object_type="refunds.heldfunds") == _events(trail, "held")


def test_no_page_of_the_trail_reads_every_event_for_its_filters_or_search(signed_in, trail):
    """SELECT DISTINCT over the trail (the filters) and LIKE (a substring search) read every
    event: 0.6 s and 2 s at five million. The list, an id, a reference, an email and an
    action go to indexes instead."""
    client = signed_in(AUDITOR)
    for query in [
        {},
        {"q": str(trail["mine"].pk)},
        {"q": trail["mine"].closure.reference},
        {"q": "clerk@example.test"},
        {"q": "cashed"},
    ]:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(TRAIL, query).status_code == 200
        trail_sql = [q["sql"] for q in queries if "portal_auditevent" in q["sql"]]
        assert trail_sql, query
        assert not [sql for sql in trail_sql if "DISTINCT" in sql or "LIKE" in sql], query
