"""Writing, sealing and verifying the audit trail (SPEC §5).

Each event carries an HMAC-SHA256 of itself, its id included, keyed with a secret from the
environment (`AUDIT_HMAC_KEYS`) that the database never holds: whoever has the database
login can neither rewrite an event nor write a new one that verifies. Writers insert their
events without waiting on each other; after they commit, one sealer (`audit_seal_pending`,
run by `seal_audit_trail` within a second) links them in id order into the seal chain:
each `AuditSeal` holds the SHA-256 of its events' hashes and the hash of the seal before
it, signed with the same keys. Signed checkpoints of the seal chain's head, written outside
the database, show seals cut from the end. Every event and seal is keyed: one under a key
id `AUDIT_HMAC_KEYS` does not list is reported.
"""

import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, transaction
from django.utils import timezone

from .actors import Actor, actor_label, actor_user
from .datakeys import KeyRing, data_keys_get_or_create, seal
from .db import bulk_insert
from .display import code_words
from .models import AuditEvent, AuditSeal
from .personal_data import AUDIT_PERSONAL_KEYS, HOLDER_PATHS, PERSONAL_REPR, RECORDS

logger = logging.getLogger(__name__)

GENESIS = "0" * 64
# Any fixed number: the advisory lock only sealers take, so one seals at a time.
_SEALER_LOCK_KEY = 7_334_002
# How often and how long a sealer waits for the transactions in flight (see
# `audit_seal_pending`) before it leaves the events to its next round.
_IN_FLIGHT_POLL_SECONDS = 0.005
_IN_FLIGHT_WAIT_SECONDS = 5.0
_CHECKPOINT_GLOB = "audit-checkpoint-*.json"
# `audit_record(subject=...)` default: the holder the target belongs to.
SUBJECT_OF_TARGET = object()


class AuditAction(models.TextChoices):
    """Every action the audit trail records, with the words staff read in the admin.
    `audit_record` refuses any other: a new action is declared here, one line each."""

    ACCOUNT_KEPT_OPEN = "account.kept_open", "Holder kept the account open"
    ACCOUNT_NOTE_ADDED = "account.note_added", "Support note added"
    ACCOUNT_SUPPORT_CONTACT = "account.support_contact", "Holder contacted support"
    ADDRESS_CHANGED = "address.changed", "Address on record changed"
    PHONE_ADDED = "phone.added", "Phone number added"
    PHONE_REMOVED = "phone.removed", "Phone number removed"
    CLOSURE_CONFIRMED = "closure.confirmed", "Account closed"
    CLOSURE_DIRECT_BILL_SETTLED = "closure.direct_bill_settled", "Direct Bill settled"
    REFUND_CREATED = "refund.created", "Refund created"
    REFUND_SUBMITTED = "refund.submitted", "Card refund submitted to the processor"
    REFUND_SETTLED = "refund.settled", "Card refund settled"
    REFUND_FAILED = "refund.failed", "Card refund failed"
    REFUND_ISSUED = "refund.issued", "Check issued"
    REFUND_MAILED = "refund.mailed", "Check mailed"
    REFUND_CASHED = "refund.cashed", "Check cashed"
    REFUND_RETURNED = "refund.returned", "Check returned undeliverable"
    REFUND_REISSUED = "refund.reissued", "Check reissued"
    REFUND_VOID = "refund.void", "Check voided"
    REFUND_STALE = "refund.stale", "Check marked stale"
    REFUND_ESCHEATED = "refund.escheated", "Check remitted to the state"
    REFUND_FLAGGED = "refund.flagged", "Refund flagged for staff review"
    HELD_FUNDS_CREATED = "held_funds.created", "Funds held"
    HELD_FUNDS_CLAIMED = "held_funds.claimed", "Held funds claimed"
    HELD_FUNDS_OWNER_NOTICE = "held_funds.owner_notice", "Owner notice mailed"
    HELD_FUNDS_REMITTED = "held_funds.remitted", "Held funds remitted to the state"
    ADDRESS_CHANGE_REQUESTED = "address_change.requested", "New address requested"
    ADDRESS_CHANGE_CONFIRMED = "address_change.confirmed", "New address confirmed by the holder"
    ADDRESS_CHANGE_APPROVED = "address_change.approved", "New address approved by staff"
    ADDRESS_CHANGE_CANCELLED = "address_change.cancelled", "New address request cancelled"
    ADDRESS_CHANGE_EXPIRED = "address_change.expired", "New address link expired"
    STATEMENT_PAYMENT_RECORDED = "statement.payment_recorded", "Statement payment recorded"
    STATEMENT_PAST_DUE = "statement.past_due", "Statement past due"
    STATEMENT_WRITTEN_OFF = "statement.written_off", "Statement written off"
    INACTIVITY_LETTER_MAILED = "inactivity_letter.mailed", "Inactivity letter mailed"
    EMAIL_RESENT = "email.resent", "Email sent again"
    EXPORT_CLOSURES = "export.closures", "Closures exported"
    EXPORT_REFUNDS = "export.refunds", "Refunds exported"
    EXPORT_CHECK_REGISTER = "export.check_register", "Check register exported"
    EXPORT_FINAL_STATEMENTS = "export.final_statements", "Final statements exported"
    EXPORT_AUDIT_TRAIL = "export.audit_trail", "Audit trail exported"
    EXPORT_HELD_FUNDS = "export.held_funds", "Held funds exported"
    EXPORT_UNCLAIMED_PROPERTY = "export.unclaimed_property", "Unclaimed property report exported"
    EXPORT_ERASURES = "export.erasures", "Erasure records exported"
    EXPORT_NAUPA = "export.naupa", "Unclaimed property report (NAUPA) downloaded"
    EXPORT_DOWNLOADED = "export.downloaded", "Export file downloaded"
    POSITIVE_PAY_FILE_CREATED = "positive_pay_file.created", "Positive Pay issue file made"
    POSITIVE_PAY_FILE_DOWNLOADED = "positive_pay_file.downloaded", "Positive Pay file downloaded"
    BANK_FILE_IMPORTED = "bank_file.imported", "Bank paid-items file imported"
    BANK_FILE_DOWNLOADED = "bank_file.downloaded", "Bank paid-items file downloaded"
    BANK_FILE_EXCEPTION_RESOLVED = "bank_file_exception.resolved", "Bank file exception resolved"
    ERASURE_IDENTITY = "erasure.identity", "Sign-in identity erased"
    ERASURE_RECORDS = "erasure.records", "Names and addresses erased"
    LEGAL_HOLD_PLACED = "legal_hold.placed", "Legal hold placed"
    LEGAL_HOLD_LIFTED = "legal_hold.lifted", "Legal hold lifted"

    @classmethod
    def words(cls, action: str) -> str:
        """The label staff read; an action no longer declared is shown as stored."""
        return cls(action).label if action in cls.values else code_words(action)


# `AuditAction.values` builds a new list on every read; a sweep checks thousands of entries.
_DECLARED_ACTIONS = frozenset(AuditAction.values)


class AuditTrailBroken(Exception):
    """The trail does not verify; `problems` says how, in plain words."""

    def __init__(self, problems: list[str]):
        super().__init__(" ".join(problems))
        self.problems = problems


def audit_keys() -> dict[str, bytes]:
    """The HMAC keys by id from `AUDIT_HMAC_KEYS` ("k2:secret2,k1:secret1"), current first."""
    keys: dict[str, bytes] = {}
    for pair in settings.AUDIT_HMAC_KEYS.split(","):
        key_id, _, secret = pair.strip().partition(":")
        if not key_id or not secret or len(key_id) > 16 or key_id in keys:
            raise ImproperlyConfigured(
                "AUDIT_HMAC_KEYS must be comma-separated 'key-id:secret' pairs with distinct "
                "key ids of at most 16 characters."
            )
        keys[key_id] = secret.encode()
    return keys


# `json.dumps(values, sort_keys=True, separators=(",", ":"))`, the encoder made once: a
# sweep hashes thousands of events.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


def _canonical(values: dict) -> bytes:
    return _CANONICAL.encode(values).encode()


def _jsonable(values):
    """`values` as JSON would read them back (dates, amounts and the like as text)."""
    return {str(key): _plain(value) for key, value in (values or {}).items()}


def _plain(value):
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return _jsonable(value)
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return str(value)


def _hmac(keys: dict[str, bytes], key_id: str, payload: dict) -> str:
    message = _canonical({**payload, "key_id": key_id})
    return hmac.new(keys[key_id], message, hashlib.sha256).hexdigest()


def event_hash(event, keys: dict[str, bytes]) -> str:
    """The hash `event` must carry: HMAC-SHA256, with the key `event.key_id` names, of what
    it records and its id (so a copy of an event under another id does not verify)."""
    payload = {
        "id": event.pk,
        "occurred_at": event.occurred_at.isoformat(),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_repr": event.object_repr,
        "before": event.before,
        "after": event.after,
        "reason": event.reason,
    }
    return _hmac(keys, event.key_id, payload)


def seal_hash(audit_seal, keys: dict[str, bytes]) -> str:
    """The hash `audit_seal` must carry: HMAC-SHA256, with the key its `key_id` names, of
    its range, count, digest, the seal before it and when it was written."""
    payload = {
        "first_event_id": audit_seal.first_event_id,
        "last_event_id": audit_seal.last_event_id,
        "events": audit_seal.events,
        "digest": audit_seal.digest,
        "prev_hash": audit_seal.prev_hash,
        "sealed_at": audit_seal.sealed_at.isoformat(),
    }
    return _hmac(keys, audit_seal.key_id, payload)


def holder_of(target):
    """The holder (a User) whose personal data an event about `target` may hold, or None
    (staff, exports, anything that belongs to no holder)."""
    path = HOLDER_PATHS.get(target._meta.label_lower)
    if path is None:
        return None
    account = target
    for step in filter(None, path.split("__")):
        account = getattr(account, step, None)
        if account is None:
            return None
    return account.holder


@dataclass(frozen=True)
class AuditEntry:
    """One event for `audit_records`: the keyword arguments of `audit_record`."""

    actor: Actor
    action: AuditAction | str
    target: models.Model
    before: dict | None = None
    after: dict | None = None
    reason: str = ""
    at: dt.datetime | None = None
    subject: object = SUBJECT_OF_TARGET


# What seals one personal value: (holder, data key purpose, value) -> what is stored.
_SealValue = Callable[[object, str, object], object]


def _in_clear(entry: AuditEntry) -> dict:
    """The fields of `entry`'s event that may hold personal data, in clear."""
    return {
        "object_repr": str(entry.target)[:100],
        "before": _jsonable(entry.before),
        "after": _jsonable(entry.after),
        "reason": entry.reason,
    }


def _as_stored(entry: AuditEntry, clear: dict, subject, seal_value: _SealValue) -> dict:
    """`clear` as the event stores it: personal values sealed with `subject`'s data keys
    by `seal_value` (rule B7)."""

    def values(raw):
        return {
            name: seal_value(subject, AUDIT_PERSONAL_KEYS[name], value)
            if name in AUDIT_PERSONAL_KEYS
            else value
            for name, value in raw.items()
        }

    object_repr = clear["object_repr"]
    if entry.target._meta.label_lower in PERSONAL_REPR:
        object_repr = seal_value(subject, RECORDS, object_repr)
    return {
        "object_repr": object_repr,
        "before": values(clear["before"]),
        "after": values(clear["after"]),
        "reason": seal_value(subject, RECORDS, clear["reason"]),
    }


def _next_ids(count: int) -> list[int]:
    """Ids for `count` new events, taken before they are hashed (the hash covers the id)."""
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # SPEC §5: the transaction gets its xid before its events get their ids, so a
            # sealer that waits for the transactions in flight waits for every lower id.
            cursor.execute("SELECT pg_current_xact_id()")
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            return sorted(row[0] for row in cursor.fetchall())
        # SQLite writes one transaction at a time, and never reuses an id (AUTOINCREMENT).
        quoted = connection.ops.quote_name(table)
        cursor.execute(
            "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), "  # noqa: S608 (a model's table)
            f"coalesce((SELECT max(id) FROM {quoted}), 0))",
            [table],
        )
        last = cursor.fetchone()[0]
        return list(range(last + 1, last + 1 + count))


def audit_records(entries: list[AuditEntry]) -> list[AuditEvent]:
    """Append events for `entries`, in the order given, in one INSERT (the sweeps' batches),
    the subjects' data keys fetched or made in bulk. Call it inside the transaction of the
    change. Takes no lock and reads nothing of the trail: the sealer links the events into
    the chain after the transaction commits (`audit_seal_pending`). Each entry is recorded
    as `audit_record` describes; an undeclared action is refused (ValueError)."""
    for entry in entries:
        if entry.action not in _DECLARED_ACTIONS:
            raise ValueError(f"Unknown audit action {entry.action!r}: declare it in AuditAction.")
    if not connection.in_atomic_block:
        raise RuntimeError("audit_records must run inside the transaction of the change")
    if not entries:
        return []
    keys = audit_keys()
    key_id = next(iter(keys))
    now = timezone.now()
    # Stored and hashed in UTC: a zoned `at` would hash differently once read back.
    moments = [(entry.at or now).astimezone(dt.timezone.utc) for entry in entries]
    subjects = [
        holder_of(entry.target) if entry.subject is SUBJECT_OF_TARGET else entry.subject
        for entry in entries
    ]
    # rule B7: first see which subjects' keys the personal values need, fetch those at once.
    needed: dict[str, dict] = {}

    def note(subject, purpose, value):
        if subject is not None and value not in ("", None):
            needed.setdefault(purpose, {})[subject.pk] = subject
        return value

    clear = [_in_clear(entry) for entry in entries]
    for entry, fields, subject in zip(entries, clear, subjects, strict=True):
        _as_stored(entry, fields, subject, note)
    data_keys = {
        (holder_id, purpose): key
        for purpose, holders in needed.items()
        for holder_id, key in data_keys_get_or_create(
            holders.values(), purpose=purpose, at=min(moments)
        ).items()
    }

    def sealed(subject, purpose, value):
        if subject is None or value in ("", None):
            return value
        data_key, cipher = data_keys[subject.pk, purpose]
        return seal(value, data_key=data_key, cipher=cipher)

    events = []
    ids = _next_ids(len(entries))
    rows = zip(ids, entries, clear, subjects, moments, strict=True)
    for event_id, entry, fields, subject, occurred_at in rows:
        event = AuditEvent(
            id=event_id,
            occurred_at=occurred_at,
            actor=actor_user(entry.actor),
            actor_label=actor_label(entry.actor),
            action=str(entry.action),
            object_type=entry.target._meta.label_lower,
            object_id=str(entry.target.pk),
            key_id=key_id,
            **_as_stored(entry, fields, subject, sealed),
        )
        event.hash = event_hash(event, keys)
        events.append(event)
    return bulk_insert(events)


def audit_record(
    *,
    actor: Actor,
    action: AuditAction | str,
    target: models.Model,
    before: dict | None = None,
    after: dict | None = None,
    reason: str = "",
    at: dt.datetime | None = None,
    subject: object = SUBJECT_OF_TARGET,
) -> AuditEvent:
    """Append one event to the trail (`audit_records` of one). Call it inside the
    transaction of the change.

    rule B7: personal data never sits in the trail in clear. The personal values of
    `before`/`after` (`AUDIT_PERSONAL_KEYS`), the reason and a `str(target)` that may name
    someone are sealed with the data keys of `subject` (by default the holder `target`
    belongs to; pass None for an event that holds no personal data), and a holder who
    acts is recorded as "holder", never by their address. The hashes cover what is
    stored, so erasing a key leaves the trail verifiable. `action` must be declared in
    `AuditAction` (ValueError otherwise)."""
    entry = AuditEntry(actor, action, target, before, after, reason, at, subject)
    return audit_records([entry])[0]


def audit_event_open(event, *, keyring: KeyRing | None = None) -> dict:
    """What staff and auditors read of `event`: its sealed values opened while the
    holder's data key exists, "[erased]" after (rule B7)."""
    keyring = keyring or KeyRing()
    return {
        "object_repr": keyring.open(event.object_repr),
        "before": keyring.open_values(event.before),
        "after": keyring.open_values(event.after),
        "reason": keyring.open(event.reason),
    }


def _event_problem(keys, event, where: str) -> str | None:
    """What is wrong with `event`'s own hash, in plain words, or None."""
    if event.key_id not in keys:
        return f"{where} is sealed with key '{event.key_id}', not a known key."
    if not hmac.compare_digest(event_hash(event, keys), event.hash):
        return (
            f"{where} does not match its hash: it was changed after it was written "
            "(a hash recomputed without the key does not verify)."
        )
    return None


def covering_seals(event_id) -> models.QuerySet[AuditSeal]:
    """The seal whose range holds the event `event_id` (an id or an `OuterRef`): none while
    the event awaits the sealer."""
    return AuditSeal.objects.filter(
        last_event_id__gte=event_id, first_event_id__lte=event_id
    ).order_by("last_event_id")[:1]


def covering_seal(event_id: int) -> AuditSeal | None:
    return covering_seals(event_id).first()


class _Digest:
    """The SHA-256 a seal holds of its events' hashes, in id order, joined by newlines;
    given one at a time, in constant memory."""

    def __init__(self):
        self.count, self._sha = 0, hashlib.sha256()

    def add(self, event_hash: str) -> None:
        self._sha.update(f"\n{event_hash}".encode() if self.count else event_hash.encode())
        self.count += 1

    def hexdigest(self) -> str:
        return self._sha.hexdigest()


def _in_flight_settled(cursor) -> int | None:
    """The highest event id every lower id of which is settled (committed, or never to be),
    once the transactions in flight when it was read have ended; None when they are still
    running after `_IN_FLIGHT_WAIT_SECONDS`."""
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    # One statement, one snapshot: the highest id visible and the transactions in flight.
    cursor.execute(
        f"SELECT (SELECT max(id) FROM {table}), pg_current_snapshot()::text, "  # noqa: S608
        "pg_current_xact_id_if_assigned()::text"
    )
    highest, snapshot, own = cursor.fetchone()
    # The snapshot lists the whole cluster's transactions: keep this database's (each
    # holds the lock on its own transaction id), less the caller's own (a sealer called
    # inside a transaction).
    cursor.execute(
        "SELECT coalesce(array_agg(running.xid::text), '{}') "
        "FROM pg_snapshot_xip(%s::pg_snapshot) AS running(xid) "
        "JOIN pg_locks AS l ON l.locktype = 'transactionid' AND l.mode = 'ExclusiveLock' "
        "AND l.transactionid::text = (running.xid::text::bigint %% 4294967296)::text "
        "JOIN pg_stat_activity AS a ON a.pid = l.pid AND a.datname = current_database() "
        "WHERE running.xid::text IS DISTINCT FROM %s",
        [snapshot, own],
    )
    in_flight = cursor.fetchone()[0]
    deadline = time.monotonic() + _IN_FLIGHT_WAIT_SECONDS
    while in_flight:
        cursor.execute(
            "SELECT coalesce(array_agg(xid), '{}') FROM unnest(%s::text[]) AS running(xid) "
            "WHERE pg_xact_status(running.xid::xid8) = 'in progress'",
            [in_flight],
        )
        in_flight = cursor.fetchone()[0]
        if not in_flight:
            break
        if time.monotonic() > deadline:
            logger.warning(
                "Audit sealer: transactions in flight for over %s seconds; sealing next round.",
                _IN_FLIGHT_WAIT_SECONDS,
            )
            return None
        time.sleep(_IN_FLIGHT_POLL_SECONDS)
    return highest or 0


def audit_seal_pending(*, at: dt.datetime, chunk_size: int = 2000) -> AuditSeal | None:
    """Link every committed event not yet sealed, in id order, into one new seal (SPEC §5),
    after checking each event's own hash; returns the seal, or None when there was nothing
    to seal or another sealer is at work. An event whose hash does not verify (written by
    someone with the database login, without the key) is never sealed: nothing is, the
    error is logged and AuditTrailBroken raised. Call it outside a transaction or in a
    READ COMMITTED one (the default), so that each query sees what has committed since.

    Writers take no lock, so on PostgreSQL an event may commit after one with a higher id
    (ids come from a sequence when the event is written; commits come later, in any
    order). Sealing event 101 while event 100's transaction is still open would leave 100
    outside the chain for good. So the sealer, in one snapshot, reads the highest event id
    visible (H) and which transactions of this database are in flight, then waits until
    each of those has ended (committed or rolled back). Every event transaction takes its
    transaction id before its events' ids (`_next_ids`), so any transaction holding an id
    below H was in flight then, or had already ended. After the wait, a fresh snapshot
    shows every event up to H that will ever exist, and those are sealed; events above H
    wait for the next round. If the transactions in flight run longer than a few seconds,
    nothing is sealed this round. Only sealers take the sealers' advisory lock, and never
    wait for it. On SQLite (one writer at a time) every event visible is sealed."""
    keys = audit_keys()
    with transaction.atomic():
        highest = None
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_SEALER_LOCK_KEY])
                if not cursor.fetchone()[0]:
                    return None
                highest = _in_flight_settled(cursor)
            if highest is None:
                return None
        head = AuditSeal.objects.order_by("-id").first()
        after = head.last_event_id if head else 0
        pending = AuditEvent.objects.filter(pk__gt=after).order_by("id")
        if highest is not None:
            pending = pending.filter(pk__lte=highest)
        digest, last = _Digest(), after
        for event in pending.iterator(chunk_size=chunk_size):
            if problem := _event_problem(keys, event, f"Event {event.pk}"):
                logger.error("Audit sealer: %s Nothing was sealed.", problem)
                raise AuditTrailBroken([f"{problem} Nothing was sealed."])
            digest.add(event.hash)
            last = event.pk
        if not digest.count:
            return None
        new = AuditSeal(
            first_event_id=after + 1,
            last_event_id=last,
            events=digest.count,
            digest=digest.hexdigest(),
            prev_hash=head.hash if head else GENESIS,
            sealed_at=at.astimezone(dt.timezone.utc),
            key_id=next(iter(keys)),
        )
        new.hash = seal_hash(new, keys)
        new.save()
        return new


@dataclass(frozen=True)
class ChainHead:
    """The head of the seal chain: the last seal's id and hash, and how many events the
    seals hold, up to event `last_event_id`."""

    last_id: int | None
    last_hash: str
    events: int
    last_event_id: int = 0


START = ChainHead(None, GENESIS, 0, 0)


@dataclass(frozen=True)
class Checkpoint:
    """A signed record, kept outside the database, of the seal chain's head at a moment."""

    name: str
    head: ChainHead
    written_at: dt.datetime
    key_id: str


@dataclass
class AuditReport:
    events: int
    problems: list[str]
    checkpoint: Checkpoint | None = None
    # Events written since the last seal, awaiting the sealer.
    unsealed: int = 0

    @property
    def intact(self) -> bool:
        return not self.problems


@dataclass
class _Walk:
    head: ChainHead
    problem: str | None = None
    unsealed: int = 0
    oldest_unsealed: dt.datetime | None = None


def _walk(keys, start: ChainHead, *, chunk_size) -> _Walk:
    """Check, after `start`, every seal in order (its hash, its link to the seal before, and
    that its range holds exactly the events it sealed) and every event in id order (its
    own hash), then the events not sealed yet; stop at the first problem."""
    walk = _Walk(start)
    with transaction.atomic():  # one snapshot of both tables
        seals = AuditSeal.objects.filter(pk__gt=start.last_id or 0).order_by("id")
        events: Iterator[AuditEvent] = (
            AuditEvent.objects.filter(pk__gt=start.last_event_id)
            .order_by("id")
            .iterator(chunk_size=chunk_size)
        )
        event = next(events, None)
        number = start.events  # the event's place in the trail, for the reader

        def checked(event):
            nonlocal number
            number += 1
            walk.problem = _event_problem(
                keys, event, f"Event {event.pk} (entry {number} in order)"
            )
            return walk.problem is None

        for audit_seal in seals.iterator(chunk_size=chunk_size):
            head = walk.head
            walk.problem = _seal_problem(keys, audit_seal, head)
            if walk.problem:
                return walk
            digest = _Digest()
            while event is not None and event.pk <= audit_seal.last_event_id:
                if not checked(event):
                    return walk
                digest.add(event.hash)
                event = next(events, None)
            walk.problem = _range_problem(audit_seal, digest)
            if walk.problem:
                return walk
            walk.head = ChainHead(
                audit_seal.pk, audit_seal.hash, head.events + digest.count, audit_seal.last_event_id
            )
        while event is not None:
            if not checked(event):
                return walk
            walk.unsealed += 1
            walk.oldest_unsealed = min(walk.oldest_unsealed or event.occurred_at, event.occurred_at)
            event = next(events, None)
    return walk


def _seal_problem(keys, audit_seal: AuditSeal, head: ChainHead) -> str | None:
    where = f"Seal {audit_seal.pk}"
    if audit_seal.prev_hash != head.last_hash:
        return f"{where} does not link to the seal before: seals were removed."
    if audit_seal.key_id not in keys:
        return f"{where} is signed with key '{audit_seal.key_id}', not a known key."
    if not hmac.compare_digest(seal_hash(audit_seal, keys), audit_seal.hash):
        return (
            f"{where} does not match its hash: it was changed after it was written "
            "(a chain recomputed without the key does not verify)."
        )
    return None


def _range_problem(audit_seal: AuditSeal, digest: _Digest) -> str | None:
    where = (
        f"Seal {audit_seal.pk} (events {audit_seal.first_event_id} to {audit_seal.last_event_id})"
    )
    if digest.count != audit_seal.events:
        what = "removed" if digest.count < audit_seal.events else "added"
        return (
            f"{where} sealed {audit_seal.events} events; the trail now has {digest.count} "
            f"there: events were {what}."
        )
    if digest.hexdigest() != audit_seal.digest:
        return f"{where} does not match the events it sealed: events were replaced."
    return None


def _checkpoint_dir() -> Path:
    return Path(settings.AUDIT_CHECKPOINT_DIR)


def _signature(keys, body: dict) -> str:
    return hmac.new(keys[body["key_id"]], _canonical(body), hashlib.sha256).hexdigest()


def _latest_checkpoint(keys) -> Checkpoint | None:
    """The newest checkpoint file, None when there is none; AuditTrailBroken when it is
    not validly signed."""
    paths = sorted(_checkpoint_dir().glob(_CHECKPOINT_GLOB))
    if not paths:
        return None
    path = paths[-1]
    try:
        data = json.loads(path.read_text())
        signature = data.pop("signature")
        if data["key_id"] in keys and hmac.compare_digest(_signature(keys, data), signature):
            return Checkpoint(
                name=path.name,
                head=ChainHead(
                    data["last_id"], data["last_hash"], data["events"], data["last_event_id"]
                ),
                written_at=dt.datetime.fromisoformat(data["written_at"]),
                key_id=data["key_id"],
            )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    raise AuditTrailBroken([f"Checkpoint {path.name} is not validly signed: it was altered."])


def _check_head(checkpoint: Checkpoint) -> str | None:
    """Whether the trail still holds the seal chain's head the checkpoint recorded, and
    the events up to it."""
    head = checkpoint.head
    if head.last_id is None:
        return None
    stored = AuditSeal.objects.filter(pk=head.last_id).values_list("hash", flat=True).first()
    if stored is None:
        return (
            f"Seal {head.last_id}, the last in checkpoint {checkpoint.name}, is gone: "
            "seals were cut from the end of the trail."
        )
    if stored != head.last_hash:
        return (
            f"Seal {head.last_id} no longer has the hash checkpoint {checkpoint.name} "
            "recorded: the trail was rewritten."
        )
    covered = AuditEvent.objects.filter(pk__lte=head.last_event_id).count()
    if covered != head.events:
        return (
            f"Checkpoint {checkpoint.name} counted {head.events} events up to event "
            f"{head.last_event_id}; the trail now has {covered}: events were removed."
        )
    return None


def _unsealed_problem(walk: _Walk, now: dt.datetime) -> str | None:
    """Unsealed events older than `AUDIT_SEAL_MAX_DELAY_SECONDS` mean no sealer runs."""
    max_delay = dt.timedelta(seconds=settings.AUDIT_SEAL_MAX_DELAY_SECONDS)
    if walk.oldest_unsealed is None or now - walk.oldest_unsealed <= max_delay:
        return None
    return (
        f"Events awaiting the sealer: {walk.unsealed}, the oldest from "
        f"{walk.oldest_unsealed:%Y-%m-%d %H:%M:%S} UTC, more than "
        f"{settings.AUDIT_SEAL_MAX_DELAY_SECONDS} seconds ago: is seal_audit_trail running?"
    )


def audit_verify(*, now: dt.datetime, chunk_size: int = 2000) -> AuditReport:
    """Walk the whole trail, events and seals together, then hold it against the latest
    checkpoint: a rewritten, removed or added event, a recomputed chain, seals cut from
    the end, events left unsealed too long, and a missing, forged or stale checkpoint are
    each reported. Writes nothing: events awaiting the sealer are only counted."""
    keys = audit_keys()
    walk = _walk(keys, START, chunk_size=chunk_size)
    problems = [walk.problem] if walk.problem else []
    if not walk.problem and (problem := _unsealed_problem(walk, now)):
        problems.append(problem)
    events = walk.head.events + walk.unsealed
    try:
        checkpoint = _latest_checkpoint(keys)
    except AuditTrailBroken as broken:
        return AuditReport(events, problems + broken.problems, unsealed=walk.unsealed)
    if checkpoint is None:
        problems.append(
            f"No audit checkpoint in {_checkpoint_dir()}: seals cut from the end would go "
            "unseen (run write_audit_checkpoint; cron runs it hourly)."
        )
    else:
        if problem := _check_head(checkpoint):
            problems.append(problem)
        max_age = dt.timedelta(hours=settings.AUDIT_CHECKPOINT_MAX_AGE_HOURS)
        if now - checkpoint.written_at > max_age:
            problems.append(
                f"The latest checkpoint, {checkpoint.name}, is older than "
                f"{settings.AUDIT_CHECKPOINT_MAX_AGE_HOURS} hours: is its cron job running?"
            )
    return AuditReport(events, problems, checkpoint, walk.unsealed)


def audit_checkpoint_write(*, at: dt.datetime, chunk_size: int = 2000) -> Checkpoint:
    """Seal the events waiting for it (`audit_seal_pending`), verify the seals and events
    since the latest checkpoint, then sign the seal chain's head into a new file in
    `AUDIT_CHECKPOINT_DIR` and the log. Refuses (AuditTrailBroken) when the trail does not
    verify, so a checkpoint never vouches for a cut or rewritten trail."""
    audit_seal_pending(at=at, chunk_size=chunk_size)
    keys = audit_keys()
    previous = _latest_checkpoint(keys)
    start = previous.head if previous else START
    if previous and (problem := _check_head(previous)):
        raise AuditTrailBroken([problem])
    walk = _walk(keys, start, chunk_size=chunk_size)
    if walk.problem:
        raise AuditTrailBroken([walk.problem])
    head = walk.head
    key_id = next(iter(keys))
    at = at.astimezone(dt.timezone.utc)
    body = {**asdict(head), "written_at": at.isoformat(), "key_id": key_id}
    name = f"audit-checkpoint-{at:%Y%m%dT%H%M%S%fZ}-{head.last_id or 0:012d}.json"
    _checkpoint_dir().mkdir(parents=True, exist_ok=True)
    content = json.dumps({**body, "signature": _signature(keys, body)}, indent=2)
    with tempfile.NamedTemporaryFile("w", dir=_checkpoint_dir(), delete=False) as partial:
        partial.write(content)
    os.replace(partial.name, _checkpoint_dir() / name)
    logger.info("Audit checkpoint %s: %s", name, content.replace("\n", ""))
    return Checkpoint(name=name, head=head, written_at=at, key_id=key_id)


def audit_event_intact(event: AuditEvent) -> bool:
    """Whether `event` is exactly as written: its HMAC verifies with a key
    `AUDIT_HMAC_KEYS` lists, which the database login cannot compute."""
    return _event_problem(audit_keys(), event, f"Event {event.pk}") is None
