"""Writing and verifying the audit trail (SPEC §5).

Each entry carries an HMAC-SHA256 of itself and of the hash of the entry before it, keyed
with a secret from the environment (`AUDIT_HMAC_KEYS`) that the database never holds: whoever
has the database login can neither rewrite an entry nor recompute the chain. Signed
checkpoints of the chain's head, written outside the database, show entries cut from the end.
Every entry is keyed from the first: an entry under a key id `AUDIT_HMAC_KEYS` does not list
is reported.
"""

import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, transaction
from django.utils import timezone

from .actors import Actor, actor_label, actor_user
from .datakeys import KeyRing, data_key_get_or_create, seal
from .display import code_words
from .models import AuditEvent
from .personal_data import AUDIT_PERSONAL_KEYS, HOLDER_PATHS, PERSONAL_REPR, RECORDS

logger = logging.getLogger(__name__)

GENESIS = "0" * 64
# Any fixed number: the advisory lock that serialises appends to the chain.
_CHAIN_LOCK_KEY = 7_334_001
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


def _canonical(values: dict) -> bytes:
    return json.dumps(values, sort_keys=True, separators=(",", ":")).encode()


def _jsonable(values):
    return json.loads(json.dumps(values or {}, default=str, sort_keys=True))


def event_hash(event, keys: dict[str, bytes]) -> str:
    """The hash `event` must carry: HMAC-SHA256 with the key `event.key_id` names."""
    payload = {
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
        "prev_hash": event.prev_hash,
    }
    message = _canonical({**payload, "key_id": event.key_id})
    return hmac.new(keys[event.key_id], message, hashlib.sha256).hexdigest()


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


class _Sealer:
    """Seals an event's personal values with the subject's data keys (rule B7)."""

    def __init__(self, subject, at):
        self.subject, self.at, self.keys = subject, at, {}

    def __call__(self, purpose, value):
        if self.subject is None or value in ("", None):
            return value
        if purpose not in self.keys:
            self.keys[purpose] = data_key_get_or_create(
                holder=self.subject, purpose=purpose, at=self.at
            )
        data_key, raw = self.keys[purpose]
        return seal(value, data_key=data_key, raw=raw)

    def values(self, values):
        return {
            name: self(AUDIT_PERSONAL_KEYS[name], value) if name in AUDIT_PERSONAL_KEYS else value
            for name, value in _jsonable(values).items()
        }


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
    """Append one event to the chain. Call it inside the transaction of the change.

    rule B7: personal data never sits in the trail in clear. The personal values of
    `before`/`after` (`AUDIT_PERSONAL_KEYS`), the reason and a `str(target)` that may name
    someone are sealed with the data keys of `subject` (by default the holder `target`
    belongs to; pass None for an event that holds no personal data), and a holder who
    acts is recorded as "holder", never by their address. The chain hashes what is
    stored, so erasing a key leaves it verifiable. `action` must be declared in
    `AuditAction` (ValueError otherwise)."""
    if action not in AuditAction.values:
        raise ValueError(f"Unknown audit action {action!r}: declare it in AuditAction.")
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change")
    keys = audit_keys()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
    last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
    # Stored and hashed in UTC: a zoned `at` would hash differently once read back.
    occurred_at = (at or timezone.now()).astimezone(dt.timezone.utc)
    sealer = _Sealer(holder_of(target) if subject is SUBJECT_OF_TARGET else subject, occurred_at)
    object_repr = str(target)[:100]
    if target._meta.label_lower in PERSONAL_REPR:
        object_repr = sealer(RECORDS, object_repr)
    event = AuditEvent(
        occurred_at=occurred_at,
        actor=actor_user(actor),
        actor_label=actor_label(actor),
        action=str(action),
        object_type=target._meta.label_lower,
        object_id=str(target.pk),
        object_repr=object_repr,
        before=sealer.values(before),
        after=sealer.values(after),
        reason=sealer(RECORDS, reason),
        prev_hash=last or GENESIS,
        key_id=next(iter(keys)),
    )
    event.hash = event_hash(event, keys)
    event.save()
    return event


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


def audit_records(entries: list[AuditEntry]) -> list[AuditEvent]:
    """Append many events at once, in the order given (the sweeps' batches). Call it
    inside the transaction of the change; each entry is recorded as `audit_record` would."""
    return [
        audit_record(
            actor=entry.actor,
            action=entry.action,
            target=entry.target,
            before=entry.before,
            after=entry.after,
            reason=entry.reason,
            at=entry.at,
            subject=entry.subject,
        )
        for entry in entries
    ]


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


@dataclass(frozen=True)
class ChainHead:
    last_id: int | None
    last_hash: str
    events: int


@dataclass(frozen=True)
class Checkpoint:
    """A signed record, kept outside the database, of the chain's head at a moment."""

    name: str
    head: ChainHead
    written_at: dt.datetime
    key_id: str


@dataclass
class AuditReport:
    events: int
    problems: list[str]
    checkpoint: Checkpoint | None = None

    @property
    def intact(self) -> bool:
        return not self.problems


def _walk(keys, start: ChainHead, *, chunk_size) -> tuple[ChainHead, str | None]:
    """Check every entry after `start` in order; return the head reached and the first
    problem found (or None)."""
    head = start
    with transaction.atomic():  # one snapshot of the table
        rows = AuditEvent.objects.filter(pk__gt=start.last_id or 0).order_by("id")
        for event in rows.iterator(chunk_size=chunk_size):
            where = f"Event {event.pk} (entry {head.events + 1} in order)"
            if event.prev_hash != head.last_hash:
                return head, f"{where} does not link to the entry before: entries were removed."
            if event.key_id not in keys:
                return head, f"{where} is sealed with key '{event.key_id}', not a known key."
            if not hmac.compare_digest(event_hash(event, keys), event.hash):
                return head, (
                    f"{where} does not match its hash: it was changed after it was written "
                    "(a chain recomputed without the key does not verify)."
                )
            head = ChainHead(event.pk, event.hash, head.events + 1)
    return head, None


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
                head=ChainHead(data["last_id"], data["last_hash"], data["events"]),
                written_at=dt.datetime.fromisoformat(data["written_at"]),
                key_id=data["key_id"],
            )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    raise AuditTrailBroken([f"Checkpoint {path.name} is not validly signed: it was altered."])


def _check_head(checkpoint: Checkpoint) -> str | None:
    """Whether the trail still holds the head the checkpoint recorded."""
    head = checkpoint.head
    if head.last_id is None:
        return None
    stored = AuditEvent.objects.filter(pk=head.last_id).values_list("hash", flat=True).first()
    if stored is None:
        return (
            f"Event {head.last_id}, the last in checkpoint {checkpoint.name}, is gone: "
            "entries were cut from the end of the trail."
        )
    if stored != head.last_hash:
        return (
            f"Event {head.last_id} no longer has the hash checkpoint {checkpoint.name} "
            "recorded: the trail was rewritten."
        )
    covered = AuditEvent.objects.filter(pk__lte=head.last_id).count()
    if covered != head.events:
        return (
            f"Checkpoint {checkpoint.name} counted {head.events} entries up to event "
            f"{head.last_id}; the trail now has {covered}: entries were removed."
        )
    return None


def audit_verify(*, now: dt.datetime, chunk_size: int = 2000) -> AuditReport:
    """Walk the whole chain, then hold it against the latest checkpoint: a rewritten entry,
    a recomputed chain, entries cut from the end and a missing, forged or stale checkpoint
    are each reported."""
    keys = audit_keys()
    head, problem = _walk(keys, ChainHead(None, GENESIS, 0), chunk_size=chunk_size)
    problems = [problem] if problem else []
    try:
        checkpoint = _latest_checkpoint(keys)
    except AuditTrailBroken as broken:
        return AuditReport(head.events, problems + broken.problems)
    if checkpoint is None:
        problems.append(
            f"No audit checkpoint in {_checkpoint_dir()}: entries cut from the end would go "
            "unseen (run write_audit_checkpoint; cron runs it daily)."
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
    return AuditReport(head.events, problems, checkpoint)


def audit_checkpoint_write(*, at: dt.datetime, chunk_size: int = 2000) -> Checkpoint:
    """Verify the entries since the latest checkpoint, then sign the chain's head into a new
    file in `AUDIT_CHECKPOINT_DIR` and the log. Refuses (AuditTrailBroken) when the trail
    does not verify, so a checkpoint never vouches for a cut or rewritten trail."""
    keys = audit_keys()
    previous = _latest_checkpoint(keys)
    start = previous.head if previous else ChainHead(None, GENESIS, 0)
    if previous and (problem := _check_head(previous)):
        raise AuditTrailBroken([problem])
    head, problem = _walk(keys, start, chunk_size=chunk_size)
    if problem:
        raise AuditTrailBroken([problem])
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
