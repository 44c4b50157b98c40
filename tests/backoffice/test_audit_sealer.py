"""Rule S5.audit: audited writes insert their events without waiting on each other; one
sealer links them in id order after they commit, so verification and the checkpoints
still prove the whole trail."""

import hashlib
import re
import threading
import time
from types import SimpleNamespace

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal import audit
from portal.actors import SYSTEM
from portal.audit import (
    GENESIS,
    AuditAction,
    AuditEntry,
    audit_checkpoint_write,
    audit_event_open,
    audit_record,
    audit_records,
    audit_seal_pending,
    audit_verify,
)
from portal.models import AuditEvent, AuditSeal, DataKey
from tests.factories.refunds import RefundFactory
from tests.helpers import run_at_once

# Bounds that turn a regression into a failure instead of a hang; no test waits them out.
TIMEOUT = 30


def flag(target, note="flagged"):
    """One audited write of `target` with a personal value, as a change records it."""
    return audit_record(
        actor=SYSTEM,
        action=AuditAction.REFUND_FLAGGED,
        target=target,
        after={"note": note, "address": "1200 E 6TH ST"},
    )


def digest_of(events):
    return hashlib.sha256("\n".join(event.hash for event in events).encode()).hexdigest()


def assert_one_linear_chain():
    """Rule S5.audit: seals link one after the other from GENESIS, their ranges follow each
    other, and every event is sealed exactly once."""
    previous, after, covered = GENESIS, 0, 0
    for audit_seal in AuditSeal.objects.order_by("id"):
        assert (audit_seal.prev_hash, audit_seal.first_event_id) == (previous, after + 1)
        events = list(AuditEvent.objects.filter(pk__gt=after, pk__lte=audit_seal.last_event_id))
        assert (len(events), digest_of(events)) == (audit_seal.events, audit_seal.digest)
        previous, after, covered = audit_seal.hash, audit_seal.last_event_id, covered + len(events)
    assert covered == AuditEvent.objects.count()
    assert after == AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()


@pytest.mark.django_db
def test_a_batch_is_one_insert_with_the_data_keys_made_in_bulk():
    """issue 13: `audit_records` writes a sweep's batch in one INSERT, the subjects' data
    keys fetched in one SELECT and the missing ones made in one INSERT; each event is as
    `audit_record` would write it."""
    refunds = [RefundFactory() for _ in range(3)]
    DataKey.objects.all().delete()
    entries = [
        AuditEntry(SYSTEM, AuditAction.REFUND_FLAGGED, refund, after={"address": f"{n} Main St"})
        for n, refund in enumerate(refunds)
    ]
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        events = audit_records(entries)
    inserts = [
        re.match(r'(?:INSERT (?:OR IGNORE )?INTO|COPY) "(\w+)"', q["sql"])
        for q in queries.captured_queries
    ]
    assert [insert[1] for insert in inserts if insert] == ["portal_datakey", "portal_auditevent"]
    assert [event.pk for event in events] == sorted(event.pk for event in events)
    assert DataKey.objects.count() == 3
    opened = [audit_event_open(event)["after"]["address"] for event in events]
    assert opened == ["0 Main St", "1 Main St", "2 Main St"]
    assert audit_seal_pending(at=timezone.now()).events == 3
    audit_checkpoint_write(at=timezone.now())
    assert audit_verify(now=timezone.now()).intact


@pytest.mark.django_db
def test_a_second_seal_on_the_same_seal_is_refused():
    """The seal chain cannot fork: `prev_hash` is unique."""
    flag(RefundFactory())
    first = audit_seal_pending(at=timezone.now())
    fork = AuditSeal(
        first_event_id=first.first_event_id,
        last_event_id=first.last_event_id + 1,
        events=first.events,
        digest=first.digest,
        prev_hash=first.prev_hash,
        sealed_at=first.sealed_at,
        key_id=first.key_id,
        hash="f" * 64,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        fork.save()


def _in_thread(target):
    """Run `target` in a thread with its own connection; its result or error lands in
    the returned namespace."""
    outcome = SimpleNamespace(result=None, error=None)

    def run():
        try:
            outcome.result = target()
        except Exception as exc:  # asserted on by the test
            outcome.error = exc
        finally:
            connections.close_all()

    outcome.thread = threading.Thread(target=run)
    outcome.thread.start()
    return outcome


def _hold_open(target, written, release):
    """An audited write whose transaction stays open until `release` is set."""

    def write():
        with transaction.atomic():
            event = flag(target)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pid = cursor.fetchone()[0]
            written.set()
            assert release.wait(TIMEOUT)
        return event, pid

    return _in_thread(write)


class TestOnPostgreSQL:
    """Threads with their own connections, so the tests commit (transactional database)."""

    pytestmark = [
        pytest.mark.postgres,
        pytest.mark.skipif(
            connection.vendor != "postgresql",
            reason="needs PostgreSQL: writers in parallel, snapshots and pg_locks; SQLite "
            "writes one transaction at a time",
        ),
        pytest.mark.django_db(transaction=True),
    ]

    def test_a_lower_id_committing_late_is_never_left_behind(self, monkeypatch):
        """Rule S5.audit: the event with the lower id commits after the higher one and after
        a sealer round started: the round seals neither until it has committed, then both,
        in id order."""
        low_refund, high_refund = RefundFactory(), RefundFactory()
        written, release = threading.Event(), threading.Event()
        low = _hold_open(low_refund, written, release)
        assert written.wait(TIMEOUT)
        with transaction.atomic():
            high = flag(high_refund)
        # A round that cannot wait for the open transaction seals nothing at all.
        monkeypatch.setattr(audit, "_IN_FLIGHT_WAIT_SECONDS", 0)
        assert audit_seal_pending(at=timezone.now()) is None
        assert AuditSeal.objects.count() == 0
        monkeypatch.setattr(audit, "_IN_FLIGHT_WAIT_SECONDS", TIMEOUT)

        waiting = threading.Event()

        def sleep(seconds):  # the sealer polls: it has read the highest id and waits
            waiting.set()
            time.sleep(seconds)

        monkeypatch.setattr(audit, "time", SimpleNamespace(monotonic=time.monotonic, sleep=sleep))
        sealer = _in_thread(lambda: audit_seal_pending(at=timezone.now()))
        assert waiting.wait(TIMEOUT)
        assert AuditSeal.objects.count() == 0
        release.set()
        low.thread.join(TIMEOUT)
        sealer.thread.join(TIMEOUT)
        assert (low.error, sealer.error) == (None, None)
        low_event = low.result[0]
        assert low_event.pk < high.pk
        audit_seal = sealer.result
        assert (audit_seal.events, audit_seal.last_event_id) == (2, high.pk)
        assert audit_seal.first_event_id <= low_event.pk
        assert audit_seal.digest == digest_of([low_event, high])
        assert_one_linear_chain()

    def test_writers_never_wait_on_each_other(self):
        """Rule S5.audit: while one writer holds its transaction open after writing an audit
        event, four others write and commit theirs; none waits on a lock, and no advisory
        lock is held."""
        refunds = [RefundFactory() for _ in range(5)]
        written, release = threading.Event(), threading.Event()
        holder = _hold_open(refunds[0], written, release)
        assert written.wait(TIMEOUT)

        def write_and_commit(i):
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '10s'")
                return flag(refunds[i + 1]).pk

        try:
            committed, errors = run_at_once(4, write_and_commit)
            assert errors == []
            assert AuditEvent.objects.filter(pk__in=committed).count() == 4
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND state = 'idle in transaction'"
                )
                assert cursor.fetchone()[0] == 1  # the first writer, still open
                cursor.execute(  # this database's: another on the server may use some
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = "
                    "(SELECT oid FROM pg_database WHERE datname = current_database())"
                )
                assert cursor.fetchone()[0] == 0
        finally:
            release.set()
            holder.thread.join(TIMEOUT)
        assert holder.error is None
        assert AuditEvent.objects.count() == 5

    def test_sealers_at_once_make_one_linear_chain(self):
        """Rule S5.audit: four processes writing and sealing at once leave one chain in id
        order, every event sealed once; a sealer that finds another at work returns at
        once."""
        refunds = [RefundFactory() for _ in range(12)]

        def write_and_seal(i):
            for refund in refunds[i::4]:
                with transaction.atomic():
                    flag(refund)
                audit_seal_pending(at=timezone.now())

        _, errors = run_at_once(4, write_and_seal)
        assert errors == []
        audit_seal_pending(at=timezone.now())
        assert_one_linear_chain()
        assert AuditEvent.objects.count() == 12
        audit_checkpoint_write(at=timezone.now())
        assert audit_verify(now=timezone.now()).intact

    def test_a_sealer_at_work_makes_the_next_return_at_once(self):
        flag_in_transaction = transaction.atomic()(flag)
        flag_in_transaction(RefundFactory())
        written, release = threading.Event(), threading.Event()

        def busy_sealer():
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [audit._SEALER_LOCK_KEY])
                written.set()
                assert release.wait(TIMEOUT)

        other = _in_thread(busy_sealer)
        assert written.wait(TIMEOUT)
        try:
            assert audit_seal_pending(at=timezone.now()) is None
            flag_in_transaction(RefundFactory())  # writers never take the sealers' lock
        finally:
            release.set()
            other.thread.join(TIMEOUT)
        assert audit_seal_pending(at=timezone.now()).events == 2

    def test_two_first_uses_of_a_holders_data_key_share_one_key(self):
        """With no lock between writers, two transactions may make a holder's first data
        key at once: the second waits for the first's row, then uses its key."""
        first_refund = RefundFactory()
        closure = first_refund.closure  # the same holder's
        holder = first_refund.closure.account.holder
        assert not DataKey.objects.filter(holder=holder).exists()
        written, release = threading.Event(), threading.Event()
        first = _hold_open(first_refund, written, release)
        assert written.wait(TIMEOUT)
        second = _in_thread(transaction.atomic()(lambda: flag(closure, "second")))
        try:
            assert _waits_on_a_lock(second.thread)
        finally:
            release.set()
            first.thread.join(TIMEOUT)
            second.thread.join(TIMEOUT)
        assert (first.error, second.error) == (None, None)
        assert DataKey.objects.filter(holder=holder).count() == 1
        events = AuditEvent.objects.order_by("id")
        assert [audit_event_open(e)["after"]["address"] for e in events] == ["1200 E 6TH ST"] * 2
        assert audit_seal_pending(at=timezone.now()).events == 2


def _waits_on_a_lock(thread) -> bool:
    """Whether a session of this database comes to wait on a lock (the second writer's
    insert of the same data key) while `thread` runs."""
    deadline = time.monotonic() + TIMEOUT
    while thread.is_alive() and time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return True
        time.sleep(0.01)
    return False
