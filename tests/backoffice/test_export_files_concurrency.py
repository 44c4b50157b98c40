"""Background exports with real transactions (rule S5.exports): two workers given the
same export at once (the row lock lets one claim it, the other does nothing, and the file
is written once), and the progress of a CSV written by COPY, seen from another connection
while the COPY runs."""

import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from portal.business_calendar import business_date
from refunds.exporters import base, copy_csv
from refunds.exporters.files import export_file_path
from refunds.models import ExportRun
from refunds.roles import AUDITOR
from refunds.tasks import export_file_write
from tests.factories.refunds import RefundFactory
from tests.helpers import postgres_only, run_at_once

pytestmark = [*postgres_only, pytest.mark.django_db(transaction=True)]

TODAY = business_date(timezone.now())
Status = ExportRun.Status


def queued_check_register(auditor, file_format, *, rows):
    """Today's check register, asked for by `auditor`, waiting for a worker."""
    return ExportRun.objects.create(
        exporter="check_register",
        file_format=file_format,
        date_from=TODAY,
        date_to=TODAY,
        row_count=rows,
        last_id=10**9,
        actor=auditor,
        created_at=timezone.now(),
        status=Status.QUEUED,
    )


def test_two_workers_at_once_write_the_file_once(staff, monkeypatch):
    RefundFactory(issued=True, issued_on=TODAY, check_number="410001")
    RefundFactory(issued=True, issued_on=TODAY, check_number="410002")
    run = queued_check_register(staff(AUDITOR), "xlsx", rows=2)
    calls = []
    plain = base.xlsx_file

    def counted_writer(*args, **kwargs):
        calls.append(1)
        return plain(*args, **kwargs)

    monkeypatch.setattr("refunds.exporters.files.xlsx_file", counted_writer)
    _results, errors = run_at_once(2, lambda i: export_file_write.call(run_id=run.pk))
    assert errors == []
    assert len(calls) == 1
    run.refresh_from_db()
    assert (run.status, run.rows_written) == (Status.READY, 2)


def test_a_csv_written_by_copy_shows_its_progress_while_the_copy_runs(staff, monkeypatch):
    """Issue 13: COPY holds the task's connection in one transaction until its last row;
    the progress is committed on a connection of its own, so the page sees it at once."""
    RefundFactory.create_batch(5, issued=True, issued_on=TODAY)
    monkeypatch.setattr(copy_csv, "CHUNK_SIZE", 2)
    monkeypatch.setattr(copy_csv, "PROGRESS_EVERY", 2)
    run = queued_check_register(staff(AUDITOR), "csv", rows=5)
    onlooker = connections.create_connection(DEFAULT_DB_ALIAS)
    seen = []
    chunks = copy_csv.copy_csv_chunks

    def watched(*args, **kwargs):
        for chunk in chunks(*args, **kwargs):
            with onlooker.cursor() as cursor:
                cursor.execute("SELECT rows_written FROM refunds_exportrun WHERE id = %s", [run.pk])
                seen.append(cursor.fetchone()[0])
            yield chunk

    monkeypatch.setattr(copy_csv, "copy_csv_chunks", watched)
    try:
        export_file_write.call(run_id=run.pk)
    finally:
        onlooker.close()
    # Before the header, and before each chunk of two rows: the two rows before it.
    assert seen == [0, 0, 2, 4]
    run.refresh_from_db()
    assert (run.status, run.rows_written) == (Status.READY, 5)


def test_a_progress_that_cannot_be_saved_does_not_stop_the_file(staff, monkeypatch, caplog):
    """The progress bar is not worth the export: when its connection fails, the COPY
    goes on and the file is ready, with every row."""
    RefundFactory.create_batch(5, issued=True, issued_on=TODAY)
    monkeypatch.setattr(copy_csv, "CHUNK_SIZE", 2)
    monkeypatch.setattr(copy_csv, "PROGRESS_EVERY", 2)
    run = queued_check_register(staff(AUDITOR), "csv", rows=5)
    create = connections.create_connection

    def unreachable(alias):
        wrapper = create(alias)
        wrapper.settings_dict = {**wrapper.settings_dict, "PORT": "1"}
        return wrapper

    monkeypatch.setattr(connections, "create_connection", unreachable)
    export_file_write.call(run_id=run.pk)
    run.refresh_from_db()
    assert (run.status, run.rows_written) == (Status.READY, 5)
    assert export_file_path(run).read_bytes().count(b"\r\n") == 1 + 5
    assert caplog.text.count("its progress could not be saved") == 1
