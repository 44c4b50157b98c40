"""Writing and verifying the audit trail (SPEC §5)."""

import datetime as dt
import json
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from .models import AuditEvent

GENESIS = "0" * 64
# Any fixed number: the advisory lock that serialises appends to the chain.
_CHAIN_LOCK_KEY = 7_334_001


def _jsonable(values):
    return json.loads(json.dumps(values or {}, default=str, sort_keys=True))


def audit_record(*, actor, action, target, before=None, after=None, reason="", at=None):
    """Append one event to the chain. Call it inside the transaction of the change."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
    last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
    actor_user = actor if getattr(actor, "pk", None) else None
    event = AuditEvent(
        # Stored and hashed in UTC: a zoned `at` would hash differently once read back.
        occurred_at=(at or timezone.now()).astimezone(dt.timezone.utc),
        actor=actor_user,
        actor_label=actor_user.email if actor_user else (actor or "system"),
        action=action,
        object_type=target._meta.label_lower,
        object_id=str(target.pk),
        object_repr=str(target)[:200],
        before=_jsonable(before),
        after=_jsonable(after),
        reason=reason,
        prev_hash=last or GENESIS,
    )
    event.hash = event.compute_hash()
    event.save()
    return event


@dataclass
class ChainReport:
    intact: bool
    events: int
    broken_at: int | None = None
    problem: str = ""


def audit_verify_chain(*, chunk_size=2000) -> ChainReport:
    """Walk the chain in order; report the first entry whose hash or link is wrong."""
    previous = GENESIS
    count = 0
    with transaction.atomic():
        for event in AuditEvent.objects.order_by("id").iterator(chunk_size=chunk_size):
            count += 1
            if event.prev_hash != previous:
                return ChainReport(False, count, event.pk, "does not link to the entry before")
            if event.compute_hash() != event.hash:
                return ChainReport(False, count, event.pk, "was changed after it was written")
            previous = event.hash
    return ChainReport(True, count)
