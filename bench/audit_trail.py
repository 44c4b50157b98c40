"""The audit trail's admin at scale, for `make bench`: what an auditor at year end opens,
filters and types into the search box, against the floor (bench/admin_lists.py).

`fill_trail(events)` adds events by set-based SQL to the filled database: one for each
of the first refunds (its current status as the action, by one of 50 clerks when a
person moves it, else the system; its closure's reference in the object) and one
`closure.confirmed` for each of the first closures. Their hashes are not keyed, so this
part runs last, after the trail has been verified. The plain indexes of the trail are
dropped and made again around the fill, then VACUUM ANALYZE.
"""

import time

from bench.scale import PLAIN_INDEXES

TRAIL = "/admin/portal/auditevent/"
TABLE = "portal_auditevent"
CLERKS = 50
MOVED_BY_STAFF = ["issued", "mailed", "cashed", "returned", "reissued", "void", "stale"]

REFUND_EVENTS = """
INSERT INTO portal_auditevent (occurred_at, actor_id, actor_label, action, object_type,
    object_id, object_repr, before, after, reason, hash, key_id)
SELECT r.status_changed_at,
    CASE WHEN by_staff THEN (%(clerk_ids)s::bigint[])[1 + r.id %% %(clerks)s] END,
    CASE WHEN by_staff THEN (%(clerk_emails)s::text[])[1 + r.id %% %(clerks)s]
        ELSE 'system' END,
    'refund.' || CASE r.status WHEN 'pending' THEN 'created' ELSE r.status END,
    'refunds.refund', r.id::text,
    c.reference || ' ' || COALESCE('check ' || r.check_number, 'Card refund'),
    '{}', jsonb_build_object('status', r.status), '',
    md5('refund' || r.id) || md5('bench' || r.id), 'bench'
FROM refunds_refund r JOIN refunds_closure c ON c.id = r.closure_id,
    LATERAL (SELECT r.status = ANY(%(moved_by_staff)s) AS by_staff) s
WHERE r.id <= %(refunds)s
"""

CLOSURE_EVENTS = """
INSERT INTO portal_auditevent (occurred_at, actor_id, actor_label, action, object_type,
    object_id, object_repr, before, after, reason, hash, key_id)
SELECT c.closed_at, NULL, 'system', 'closure.confirmed', 'refunds.closure', c.id::text,
    c.reference, '{"account_status": "open"}', jsonb_build_object('refund_cents', c.refund_cents),
    '', md5('closure' || c.id) || md5('bench' || c.id), 'bench'
FROM refunds_closure c WHERE c.id <= %(closures)s
"""


def fill_trail(events: int) -> dict:
    """About `events` more events: two in three for refunds, one in three for closures."""
    from django.db import connection

    from accounts.models import User

    clerks = [
        User.objects.get_or_create(email=f"bench-clerk{i}@bench.test", defaults={"is_staff": True})[
            0
        ]
        for i in range(CLERKS)
    ]
    params = {
        "clerk_ids": [clerk.pk for clerk in clerks],
        "clerk_emails": [clerk.email for clerk in clerks],
        "clerks": CLERKS,
        "moved_by_staff": MOVED_BY_STAFF,
        "refunds": events * 2 // 3,
        "closures": events // 3,
    }
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(PLAIN_INDEXES, [[TABLE]])
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute(REFUND_EVENTS, params)
        added = cursor.rowcount
        cursor.execute(CLOSURE_EVENTS, params)
        added += cursor.rowcount
        for _name, definition in indexes:
            cursor.execute(definition)
        # As autovacuum leaves an insert-only table (PostgreSQL 13+): counts read the
        # indexes alone.
        cursor.execute(f"VACUUM ANALYZE {TABLE}")
        cursor.execute(f"SELECT count(*) FROM {TABLE}")  # noqa: S608 - a constant
        total = cursor.fetchone()[0]
    return {"added": added, "events": total, "seconds": round(time.perf_counter() - started, 1)}


def search_terms() -> dict:
    """What an auditor types, read back from the trail's middle."""
    from portal.models import AuditEvent
    from refunds.models import Refund

    middle = AuditEvent.objects.filter(object_type="refunds.refund").order_by("id")
    event = middle[middle.count() // 2]
    refund = Refund.objects.select_related("closure").get(pk=event.object_id)
    clerk = AuditEvent.objects.filter(actor__isnull=False).order_by("-id").first()
    return {
        "object_id": event.object_id,
        "reference": refund.closure.reference,
        "email": clerk.actor_label if clerk else "",
        "words": "cashed",
        "text": "no such words",
    }


def trail_cases(terms: dict) -> list[tuple[str, str, str, dict]]:
    from refunds.roles import AUDITOR

    return [
        ("list: audit trail", AUDITOR, TRAIL, {}),
        ("filter audit trail: action", AUDITOR, TRAIL, {"action": "refund.cashed"}),
        ("search audit trail: object id", AUDITOR, TRAIL, {"q": terms["object_id"]}),
        ("search audit trail: closure reference", AUDITOR, TRAIL, {"q": terms["reference"]}),
        ("search audit trail: staff email", AUDITOR, TRAIL, {"q": terms["email"]}),
        ("search audit trail: action words", AUDITOR, TRAIL, {"q": terms["words"]}),
    ]


# Other text is looked for in every event's object and actor: measured a few times, for
# reference, with no target.
FREE_TEXT = "search audit trail: other text (reads every event)"
FREE_TEXT_REPETITIONS = 3


def measure_trail(events: int, repetitions: int) -> dict:
    from bench.admin_lists import measure_pages
    from refunds.roles import AUDITOR

    filled = fill_trail(events)
    terms = search_terms()
    pages = measure_pages(trail_cases(terms), repetitions)
    scan = measure_pages([(FREE_TEXT, AUDITOR, TRAIL, {"q": terms["text"]})], FREE_TEXT_REPETITIONS)
    return {"fill": filled, "terms": terms, **pages, "scan": scan["pages"][0]}
