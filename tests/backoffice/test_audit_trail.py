"""Rule S5.audit: the audit trail is append-only and tamper-evident, even to the database login."""

import datetime as dt
import hashlib
import hmac
import io
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

from portal.audit import audit_checkpoint_write, audit_keys, event_hash
from portal.models import AuditEvent
from refunds.services import transitions as t
from tests.factories import UserFactory
from tests.factories.refunds import RefundFactory
from tests.helpers import execute_as_owner, manage_in_production

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


def problems():
    """What verify_audit_trail reports, one problem a line."""
    with pytest.raises(CommandError) as broken:
        verify()
    return [line.removeprefix("- ") for line in str(broken.value).splitlines()[1:]]


def checkpoint(at=None):
    return audit_checkpoint_write(at=at or timezone.now())


def test_one_row_per_change_in_order(trail):
    assert [event.action for event in trail] == [
        "refund.issued",
        "refund.mailed",
        "refund.returned",
        "refund.void",
    ]
    assert [event.prev_hash for event in trail[1:]] == [event.hash for event in trail[:-1]]
    assert {event.key_id for event in trail} == {"dev"}


def test_verify_audit_trail_says_intact(trail):
    written = checkpoint()
    assert verify() == (
        f"Audit trail intact, 4 events; checkpoint {written.name} (4 events) holds."
    )


def _behind_the_apps_back(sql, params):
    """What a DBA could do: switch the protection off, change rows, switch it on."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Run the deferred foreign key checks first: ALTER TABLE waits for none.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            execute_as_owner(cursor, f"ALTER TABLE portal_auditevent DISABLE TRIGGER {TRIGGER}")
        execute_as_owner(cursor, sql, params)
        if connection.vendor == "postgresql":
            execute_as_owner(cursor, f"ALTER TABLE portal_auditevent ENABLE TRIGGER {TRIGGER}")


# How someone without the real key forges hashes (their key id and guessed keys), and
# what the verifier says of the first forged entry.
FORGERIES = pytest.mark.parametrize(
    "key_id, keys, expected",
    [
        (
            "dev",
            {"dev": b"a guessed key"},
            "does not match its hash: it was changed after it was written "
            "(a chain recomputed without the key does not verify).",
        ),
        ("sha256", {}, "is sealed with key 'sha256', not a known key."),
    ],
    ids=["hmac-with-a-wrong-key", "plain-sha256"],
)


def _forged_hash(event, keys):
    """The hash someone without the real key computes: HMAC with their guessed `keys`, or,
    with none, a plain SHA-256 of what the entry holds."""
    if keys:
        return event_hash(event, keys)
    fields = [event.occurred_at.isoformat(), event.action, event.object_id, event.after]
    return hashlib.sha256(json.dumps([*fields, event.prev_hash]).encode()).hexdigest()


def _rewrite(events, *, after, key_id, keys):
    """Rewrite the first event's `after` and recompute the chain from it, as someone
    without the real key would: `keys` are their guess."""
    previous = events[0].prev_hash
    for index, event in enumerate(events):
        if index == 0:
            event.after = after
        event.prev_hash, event.key_id = previous, key_id
        event.hash = _forged_hash(event, keys)
        _behind_the_apps_back(
            "UPDATE portal_auditevent SET after = %s, prev_hash = %s, key_id = %s, hash = %s "
            "WHERE id = %s",
            [json.dumps(event.after), event.prev_hash, key_id, event.hash, event.pk],
        )
        previous = event.hash


def test_a_row_edited_behind_the_apps_back_is_reported(trail):
    checkpoint()
    _behind_the_apps_back(
        "UPDATE portal_auditevent SET reason = %s WHERE id = %s", ["Printer jam", trail[2].pk]
    )
    assert problems() == [
        f"Event {trail[2].pk} (entry 3 in order) does not match its hash: it was changed "
        "after it was written (a chain recomputed without the key does not verify)."
    ]


@FORGERIES
def test_a_chain_recomputed_without_the_key_is_reported(trail, key_id, keys, expected):
    """Rule S5.audit: a rewritten row whose chain was recomputed (HMAC with a wrong key, or plain
    SHA-256 under a made-up key id) is reported, and the checkpoint no longer holds."""
    checkpoint()
    _rewrite(trail[2:], after={"status": "cashed"}, key_id=key_id, keys=keys)
    assert problems() == [
        f"Event {trail[2].pk} (entry 3 in order) {expected}",
        f"Event {trail[3].pk} no longer has the hash checkpoint "
        f"{sorted(p.name for p in _checkpoints())[-1]} recorded: the trail was rewritten.",
    ]


@FORGERIES
def test_the_whole_chain_recomputed_is_reported_without_a_checkpoint(trail, key_id, keys, expected):
    """Every entry is keyed from the first: a chain recomputed from its start is reported
    at its first entry, checkpoint or not."""
    _rewrite(trail, after={"status": "cashed"}, key_id=key_id, keys=keys)
    assert problems()[0] == f"Event {trail[0].pk} (entry 1 in order) {expected}"


def test_rows_cut_from_the_end_are_reported_against_the_checkpoint(trail):
    written = checkpoint()
    _behind_the_apps_back("DELETE FROM portal_auditevent WHERE id >= %s", [trail[2].pk])
    assert problems() == [
        f"Event {trail[3].pk}, the last in checkpoint {written.name}, is gone: "
        "entries were cut from the end of the trail."
    ]
    with pytest.raises(CommandError, match="(?s)No checkpoint written.*is gone"):
        call_command("write_audit_checkpoint", stdout=io.StringIO())


def test_a_row_deleted_in_the_middle_is_reported(trail):
    checkpoint()
    _behind_the_apps_back("DELETE FROM portal_auditevent WHERE id = %s", [trail[1].pk])
    assert problems() == [
        f"Event {trail[2].pk} (entry 2 in order) does not link to the entry before: "
        "entries were removed.",
        f"Checkpoint {sorted(p.name for p in _checkpoints())[-1]} counted 4 entries up to "
        f"event {trail[3].pk}; the trail now has 3: entries were removed.",
    ]


def _checkpoints():
    return list(Path(settings.AUDIT_CHECKPOINT_DIR).glob("audit-checkpoint-*.json"))


def test_no_checkpoint_is_reported(trail):
    assert problems() == [
        f"No audit checkpoint in {settings.AUDIT_CHECKPOINT_DIR}: entries cut from the end "
        "would go unseen (run write_audit_checkpoint; cron runs it daily)."
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
    first = AuditEvent.objects.first()
    assert problems() == [
        f"Event {first.pk} (entry 1 in order) is sealed with key 'k1', not a known key."
    ]


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
    """The app's login may INSERT: an entry forged at the end is still reported."""
    forged = AuditEvent(
        occurred_at=timezone.now(),
        actor_label="system",
        action="refund.void",
        object_type="refunds.refund",
        object_id="1",
        object_repr="forged",
        prev_hash=trail[-1].hash,
        key_id=key_id,
    )
    forged.hash = _forged_hash(forged, keys)
    forged.save()
    assert problems()[0] == f"Event {forged.pk} (entry 5 in order) {expected}"


def test_the_daily_sweeps_write_a_checkpoint(trail):
    for sweep in ["mark_stale_checks", "process_direct_bill_holds", "close_inactive_accounts"]:
        out = io.StringIO()
        call_command(sweep, stdout=out)
        assert "Audit checkpoint audit-checkpoint-" in out.getvalue()
    assert len(_checkpoints()) == 3
    assert verify().startswith("Audit trail intact, 4 events")


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
        execute_as_owner(cursor, sql)
    assert AuditEvent.objects.count() == 4


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
