"""Rule S5.audit: the audit trail is append-only and tamper-evident, even to the database login."""

import datetime as dt
import hashlib
import hmac
import io
import itertools
import json
import logging
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from portal.actors import SYSTEM
from portal.audit import (
    GENESIS,
    AuditTrailBroken,
    audit_checkpoint_write,
    audit_keys,
    audit_seal_pending,
    event_hash,
    seal_hash,
)
from portal.models import AuditEvent, AuditSeal
from refunds.services import transitions as t
from tests.factories import UserFactory
from tests.factories.refunds import RefundFactory
from tests.helpers import execute_as_owner, manage_in_production

pytestmark = pytest.mark.django_db

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


def problems():
    """What verify_audit_trail reports, one problem a line."""
    with pytest.raises(CommandError) as broken:
        verify()
    return [line.removeprefix("- ") for line in str(broken.value).splitlines()[1:]]


def checkpoint(at=None):
    """Seal what awaits the sealer, then write a checkpoint."""
    return audit_checkpoint_write(at=at or timezone.now())


_check_numbers = itertools.count(9500)


def one_more_event():
    """One more audited change, after the trail's."""
    t.refund_mark_issued(
        refund=RefundFactory(), actor=SYSTEM, check_number=str(next(_check_numbers))
    )
    return AuditEvent.objects.last()


def digest_of(events):
    return hashlib.sha256("\n".join(event.hash for event in events).encode()).hexdigest()


def seal_now():
    return audit_seal_pending(at=timezone.now())


def test_one_row_per_change_in_order(trail):
    assert [event.action for event in trail] == [
        "refund.issued",
        "refund.mailed",
        "refund.returned",
        "refund.void",
    ]
    assert [event.hash for event in trail] == [event_hash(event, audit_keys()) for event in trail]
    assert {event.key_id for event in trail} == {"dev"}


def test_the_sealer_links_the_events_in_id_order(trail):
    """Rule S5.audit: after commit, one seal holds the events' hashes in id order and links
    to the seal before; a second round seals only what came since."""
    assert AuditSeal.objects.count() == 0
    first = seal_now()
    assert (first.first_event_id, first.last_event_id, first.events) == (1, trail[-1].pk, 4)
    assert first.digest == digest_of(trail)
    assert (first.prev_hash, first.key_id) == (GENESIS, "dev")
    assert first.hash == seal_hash(first, audit_keys())
    assert seal_now() is None
    cashed = one_more_event()
    second = seal_now()
    assert (second.first_event_id, second.last_event_id, second.events) == (
        trail[-1].pk + 1,
        cashed.pk,
        1,
    )
    assert (second.prev_hash, second.digest) == (first.hash, digest_of([cashed]))


def test_verify_audit_trail_says_intact(trail):
    written = checkpoint()
    assert verify() == (
        f"Audit trail intact, 4 events; checkpoint {written.name} (4 events) holds."
    )


def _behind_the_apps_back(sql, params, table="portal_auditevent"):
    """What a DBA could do: switch the protection off, change rows, switch it on."""
    trigger = f"{table}_append_only"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Run the deferred foreign key checks first: ALTER TABLE waits for none.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            execute_as_owner(cursor, f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
        execute_as_owner(cursor, sql, params)
        if connection.vendor == "postgresql":
            execute_as_owner(cursor, f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")


# How someone without the real key forges hashes (their key id and guessed keys), and
# what the verifier says of the first forged event or seal.
FORGERIES = pytest.mark.parametrize(
    "key_id, keys, expected",
    [
        (
            "dev",
            {"dev": b"a guessed key"},
            "does not match its hash: it was changed after it was written "
            "(a {} recomputed without the key does not verify).",
        ),
        ("sha256", {}, "is {} with key 'sha256', not a known key."),
    ],
    ids=["hmac-with-a-wrong-key", "plain-sha256"],
)


def _event_expected(expected):
    return expected.format("hash" if "match" in expected else "sealed")


def _seal_expected(expected):
    return expected.format("chain" if "match" in expected else "signed")


def _forged_hash(row, keys, hash_of):
    """The hash someone without the real key computes: HMAC with their guessed `keys`, or,
    with none, a plain SHA-256 of what the row holds."""
    if keys:
        return hash_of(row, keys)
    return hashlib.sha256(json.dumps(str(vars(row))).encode()).hexdigest()


def _rewrite_event(event, *, after, key_id, keys):
    """Rewrite an event's `after` and recompute its hash, as someone without the real key
    would: `keys` are their guess."""
    event.after, event.key_id = after, key_id
    event.hash = _forged_hash(event, keys, event_hash)
    _behind_the_apps_back(
        "UPDATE portal_auditevent SET after = %s, key_id = %s, hash = %s WHERE id = %s",
        [json.dumps(event.after), key_id, event.hash, event.pk],
    )


def _rewrite_seal(audit_seal, events, *, key_id, keys):
    """Recompute a seal over `events` as they now are, without the real key."""
    audit_seal.digest, audit_seal.key_id = digest_of(events), key_id
    audit_seal.hash = _forged_hash(audit_seal, keys, seal_hash)
    _behind_the_apps_back(
        "UPDATE portal_auditseal SET digest = %s, key_id = %s, hash = %s WHERE id = %s",
        [audit_seal.digest, key_id, audit_seal.hash, audit_seal.pk],
        table="portal_auditseal",
    )


def test_a_row_edited_behind_the_apps_back_is_reported(trail):
    checkpoint()
    _behind_the_apps_back(
        "UPDATE portal_auditevent SET reason = %s WHERE id = %s", ["Printer jam", trail[2].pk]
    )
    assert problems() == [
        f"Event {trail[2].pk} (entry 3 in order) does not match its hash: it was changed "
        "after it was written (a hash recomputed without the key does not verify)."
    ]


@FORGERIES
def test_an_event_rehashed_without_the_key_is_reported(trail, key_id, keys, expected):
    """Rule S5.audit: a rewritten event whose hash was recomputed (HMAC with a wrong key, or
    plain SHA-256 under a made-up key id) is reported, sealed or not."""
    checkpoint()
    _rewrite_event(trail[2], after={"status": "cashed"}, key_id=key_id, keys=keys)
    assert problems() == [f"Event {trail[2].pk} (entry 3 in order) {_event_expected(expected)}"]


@FORGERIES
def test_a_chain_recomputed_without_the_key_is_reported(trail, key_id, keys, expected):
    """Rule S5.audit: events and their seal recomputed without the key: the seal is
    reported, and the checkpoint no longer holds."""
    checkpoint()
    _rewrite_event(trail[2], after={"status": "cashed"}, key_id="dev", keys=audit_keys())
    _rewrite_seal(AuditSeal.objects.get(), trail, key_id=key_id, keys=keys)
    audit_seal = AuditSeal.objects.get()
    assert problems() == [
        f"Seal {audit_seal.pk} {_seal_expected(expected)}",
        f"Seal {audit_seal.pk} no longer has the hash checkpoint "
        f"{sorted(p.name for p in _checkpoints())[-1]} recorded: the trail was rewritten.",
    ]


@FORGERIES
def test_the_whole_trail_recomputed_is_reported_without_a_checkpoint(trail, key_id, keys, expected):
    """Every event and seal is keyed from the first: a trail recomputed from its start is
    reported at its first seal, checkpoint or not."""
    seal_now()
    for event in trail:
        _rewrite_event(event, after={"status": "cashed"}, key_id=key_id, keys=keys)
    _rewrite_seal(AuditSeal.objects.get(), trail, key_id=key_id, keys=keys)
    assert problems()[0] == f"Seal {AuditSeal.objects.get().pk} {_seal_expected(expected)}"


def test_rows_cut_from_the_end_are_reported_against_the_checkpoint(trail):
    written = checkpoint()
    audit_seal = AuditSeal.objects.get()
    _behind_the_apps_back("DELETE FROM portal_auditevent WHERE id >= %s", [trail[2].pk])
    assert problems() == [
        f"Seal {audit_seal.pk} (events 1 to {trail[3].pk}) sealed 4 events; the trail now "
        "has 2 there: events were removed.",
        f"Checkpoint {written.name} counted 4 events up to event {trail[3].pk}; the trail "
        "now has 2: events were removed.",
    ]
    with pytest.raises(CommandError, match="(?s)No checkpoint written.*events were removed"):
        call_command("write_audit_checkpoint", stdout=io.StringIO())


def test_seals_cut_from_the_end_are_reported_against_the_checkpoint(trail):
    """Rule S5.audit: the last seal and its events deleted leave a shorter chain that
    verifies on its own; the checkpoint shows the cut."""
    seal_now()
    one_more_event()
    written = checkpoint()
    last = AuditSeal.objects.last()
    _behind_the_apps_back(
        "DELETE FROM portal_auditseal WHERE id = %s", [last.pk], "portal_auditseal"
    )
    _behind_the_apps_back("DELETE FROM portal_auditevent WHERE id > %s", [trail[3].pk])
    assert problems() == [
        f"Seal {last.pk}, the last in checkpoint {written.name}, is gone: seals were cut "
        "from the end of the trail."
    ]
    with pytest.raises(CommandError, match="(?s)No checkpoint written.*is gone"):
        call_command("write_audit_checkpoint", stdout=io.StringIO())


def test_a_seal_removed_in_the_middle_is_reported(trail):
    seal_now()
    one_more_event()
    checkpoint()
    first, second = AuditSeal.objects.all()
    _behind_the_apps_back(
        "DELETE FROM portal_auditseal WHERE id = %s", [first.pk], "portal_auditseal"
    )
    assert problems()[0] == (
        f"Seal {second.pk} does not link to the seal before: seals were removed."
    )


def test_a_row_deleted_in_the_middle_is_reported(trail):
    written = checkpoint()
    audit_seal = AuditSeal.objects.get()
    _behind_the_apps_back("DELETE FROM portal_auditevent WHERE id = %s", [trail[1].pk])
    assert problems() == [
        f"Seal {audit_seal.pk} (events 1 to {trail[3].pk}) sealed 4 events; the trail now "
        "has 3 there: events were removed.",
        f"Checkpoint {written.name} counted 4 events up to event {trail[3].pk}; the trail "
        "now has 3: events were removed.",
    ]


@FORGERIES
def test_an_event_put_into_a_sealed_range_is_reported(trail, key_id, keys, expected):
    """Rule S5.audit: an id no event holds inside a sealed range (a rolled-back write's)
    stays empty: an event inserted there with that id is reported."""
    _behind_the_apps_back("DELETE FROM portal_auditevent WHERE id = %s", [trail[1].pk])
    checkpoint()
    forged = _copy(trail[1], key_id=key_id)
    forged.hash = _forged_hash(forged, keys, event_hash)
    forged.save()
    assert problems()[0] == f"Event {forged.pk} (entry 2 in order) {_event_expected(expected)}"


def test_a_copy_of_an_event_under_another_id_does_not_verify(trail):
    """The id is in the hash: an event copied under a new id, hash and all, is reported."""
    checkpoint()
    copy = _copy(trail[1], key_id="dev", pk=trail[3].pk + 1)
    copy.hash = trail[1].hash[::-1]  # the copied hash itself is refused by its unique index
    assert event_hash(_copy(trail[1], key_id="dev", pk=copy.pk), audit_keys()) != trail[1].hash
    copy.save()
    assert problems()[0].startswith(f"Event {copy.pk} (entry 5 in order) does not match")


def _copy(event, *, key_id, pk=None):
    fields = {f.attname: getattr(event, f.attname) for f in AuditEvent._meta.concrete_fields}
    return AuditEvent(**{**fields, "id": pk or event.pk, "key_id": key_id, "hash": ""})


def test_a_forged_event_is_not_sealed(trail, caplog):
    """Rule S5.audit: the sealer checks each event's own hash first; a forged one stops
    the round and nothing is sealed."""
    forged = _copy(trail[0], key_id="dev", pk=trail[3].pk + 1)
    forged.hash = _forged_hash(forged, {"dev": b"a guessed key"}, event_hash)
    forged.save()
    with caplog.at_level(logging.ERROR, logger="portal.audit"), pytest.raises(AuditTrailBroken):
        seal_now()
    assert AuditSeal.objects.count() == 0
    assert f"Event {forged.pk} does not match its hash" in caplog.text
    with pytest.raises(CommandError, match=f"(?s)Nothing sealed.*Event {forged.pk} does not"):
        call_command("seal_audit_trail", "--once", stdout=io.StringIO())
    with pytest.raises(AuditTrailBroken):
        checkpoint()
    assert AuditSeal.objects.count() == 0


def test_unsealed_events_are_counted_then_reported_when_too_old(trail, settings):
    """verify_audit_trail writes nothing: events awaiting the sealer are counted, and
    reported once older than AUDIT_SEAL_MAX_DELAY_SECONDS (no sealer running)."""
    written = checkpoint()
    cashed = one_more_event()
    assert verify() == (
        f"Audit trail intact, 5 events (1 awaiting the sealer); checkpoint {written.name} "
        "(4 events) holds."
    )
    assert AuditSeal.objects.count() == 1
    settings.AUDIT_SEAL_MAX_DELAY_SECONDS = 0
    assert problems() == [
        f"Events awaiting the sealer: 1, the oldest from {cashed.occurred_at:%Y-%m-%d %H:%M:%S} "
        "UTC, more than 0 seconds ago: is seal_audit_trail running?"
    ]
    out = io.StringIO()
    call_command("seal_audit_trail", "--once", stdout=out)
    assert out.getvalue().startswith("Audit seal ")
    assert verify().startswith("Audit trail intact, 5 events; checkpoint")


def _checkpoints():
    return list(Path(settings.AUDIT_CHECKPOINT_DIR).glob("audit-checkpoint-*.json"))


def test_no_checkpoint_is_reported(trail):
    assert problems() == [
        f"No audit checkpoint in {settings.AUDIT_CHECKPOINT_DIR}: seals cut from the end "
        "would go unseen (run write_audit_checkpoint; cron runs it hourly)."
    ]


def test_a_stale_checkpoint_is_reported(trail, settings):
    written = checkpoint(at=timezone.now() - dt.timedelta(hours=27))
    assert problems() == [
        f"The latest checkpoint, {written.name}, is older than 26 hours: is its cron job running?"
    ]
    settings.AUDIT_CHECKPOINT_MAX_AGE_HOURS = 28
    assert verify().startswith("Audit trail intact, 4 events")


@pytest.mark.parametrize(
    "change",
    [
        lambda data: {**data, "events": data["events"] + 1},
        lambda data: {**data, "key_id": "other"},
        lambda data: {**data, "signature": "0" * 64},
        lambda data: "not json {",
    ],
    ids=["count-changed", "key-id-changed", "signature-changed", "garbled"],
)
def test_a_tampered_checkpoint_is_reported(trail, change):
    written = checkpoint()
    path = Path(settings.AUDIT_CHECKPOINT_DIR) / written.name
    changed = change(json.loads(path.read_text()))
    path.write_text(changed if isinstance(changed, str) else json.dumps(changed))
    assert problems() == [f"Checkpoint {written.name} is not validly signed: it was altered."]


def test_a_checkpoint_signed_with_a_guessed_key_is_reported(trail):
    """A checkpoint rewritten for a cut trail needs the key to pass; a guess does not."""
    written = checkpoint()
    path = Path(settings.AUDIT_CHECKPOINT_DIR) / written.name
    body = json.loads(path.read_text())
    del body["signature"]
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    body["signature"] = hmac.new(b"a guessed key", canonical, hashlib.sha256).hexdigest()
    path.write_text(json.dumps(body))
    assert problems() == [f"Checkpoint {written.name} is not validly signed: it was altered."]


def test_the_newest_checkpoint_is_the_one_checked(trail):
    checkpoint(at=timezone.now() - dt.timedelta(hours=30))
    newest = checkpoint()
    assert newest.head.events == 4
    assert len(_checkpoints()) == 2
    assert newest.name in verify()


def test_a_checkpoint_is_also_logged(trail, caplog):
    with caplog.at_level(logging.INFO, logger="portal.audit"):
        written = checkpoint()
    assert f"Audit checkpoint {written.name}" in caplog.text
    assert written.head.last_hash in caplog.text


def test_keys_rotate_old_entries_still_verify(settings):
    """A new key signs new entries; entries under the old key verify while it is listed."""
    clerk = UserFactory(staff=True)
    settings.AUDIT_HMAC_KEYS = "k1:first secret"
    t.refund_mark_issued(refund=RefundFactory(), actor=clerk, check_number="9101")
    checkpoint()
    settings.AUDIT_HMAC_KEYS = "k2:second secret,k1:first secret"
    t.refund_mark_issued(refund=RefundFactory(), actor=clerk, check_number="9102")
    written = checkpoint()
    assert list(AuditEvent.objects.values_list("key_id", flat=True)) == ["k1", "k2"]
    assert written.key_id == "k2"
    assert verify().startswith("Audit trail intact, 2 events")
    settings.AUDIT_HMAC_KEYS = "k2:second secret"
    first = AuditSeal.objects.first()
    assert first.key_id == "k1"
    assert problems() == [f"Seal {first.pk} is signed with key 'k1', not a known key."]


@pytest.mark.parametrize(
    "value",
    ["", "no-secret", "k1:a,k1:b", "a-key-id-far-too-long:x"],
)
def test_malformed_keys_are_refused(settings, value):
    settings.AUDIT_HMAC_KEYS = value
    with pytest.raises(ImproperlyConfigured, match="'key-id:secret' pairs"):
        audit_keys()


@FORGERIES
def test_an_entry_added_without_the_key_is_reported(trail, key_id, keys, expected):
    """The app's login may INSERT: an event forged at the end is reported before any
    sealer sees it."""
    forged = AuditEvent(
        id=trail[-1].pk + 1,
        occurred_at=timezone.now(),
        actor_label="system",
        action="refund.void",
        object_type="refunds.refund",
        object_id="1",
        object_repr="forged",
        key_id=key_id,
    )
    forged.hash = _forged_hash(forged, keys, event_hash)
    forged.save()
    assert problems()[0] == f"Event {forged.pk} (entry 5 in order) {_event_expected(expected)}"


def test_the_daily_sweeps_write_a_checkpoint(trail):
    for sweep in ["mark_stale_checks", "process_direct_bill_holds", "close_inactive_accounts"]:
        out = io.StringIO()
        call_command(sweep, stdout=out)
        assert "Audit checkpoint audit-checkpoint-" in out.getvalue()
    assert len(_checkpoints()) == 3
    assert verify().startswith("Audit trail intact, 4 events")


def test_the_app_cannot_change_or_delete_an_event_or_a_seal(trail):
    event = trail[0]
    event.reason = "edited"
    with pytest.raises(Exception, match="never changed"):
        event.save()
    with pytest.raises(Exception, match="cannot be changed"):
        AuditEvent.objects.filter(pk=event.pk).update(reason="edited")
    with pytest.raises(Exception, match="never deleted"):
        event.delete()
    audit_seal = seal_now()
    audit_seal.events = 3
    with pytest.raises(Exception, match="never changed"):
        audit_seal.save()
    with pytest.raises(Exception, match="cannot be changed"):
        AuditSeal.objects.update(events=3)
    with pytest.raises(Exception, match="never deleted"):
        audit_seal.delete()


@on_postgresql
@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE portal_auditevent SET reason = 'edited'",
        "DELETE FROM portal_auditevent",
        "UPDATE portal_auditseal SET events = 3",
        "DELETE FROM portal_auditseal",
    ],
)
def test_postgresql_refuses_update_and_delete_whoever_asks(trail, sql):
    seal_now()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        execute_as_owner(cursor, sql)
    assert AuditEvent.objects.count() == 4
    assert AuditSeal.objects.get().events == 4


def test_a_zoned_time_is_hashed_as_stored(db):
    """An `at` in the business zone must verify once read back in UTC."""
    clerk = UserFactory(staff=True)
    chicago = timezone.now().astimezone(ZoneInfo("America/Chicago"))
    t.refund_mark_issued(refund=RefundFactory(), actor=clerk, check_number="9002", at=chicago)
    checkpoint(at=chicago)
    assert verify().startswith("Audit trail intact, 1 events")


def test_production_requires_the_audit_key_from_the_environment():
    missing = manage_in_production("check", "--deploy", AUDIT_HMAC_KEYS=None)
    assert missing.returncode == 1
    assert "Set the AUDIT_HMAC_KEYS environment variable" in missing.stderr
    configured = manage_in_production("check", "--deploy")
    assert configured.stdout.strip() == "System check identified no issues (0 silenced)."


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pattern indexes are PostgreSQL's")
@pytest.mark.postgres
def test_an_audited_write_maintains_only_the_indexes_something_reads(trail):
    """Issue 13: no `varchar_pattern_ops` twin beside the hash's and the action's index;
    the hash is still unique (a copied event is refused) and the action still indexed."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'portal_auditevent'")
        definitions = [row[0] for row in cursor.fetchall()]
    assert not [d for d in definitions if "pattern_ops" in d]
    assert [d for d in definitions if "UNIQUE" in d and "(hash)" in d]
    assert [d for d in definitions if "UNIQUE" not in d and "(action)" in d]
