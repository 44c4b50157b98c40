"""Exports too big for a request (issue 13; rule S5.exports): XLSX, and CSV past
`EXPORT_CSV_BACKGROUND_ROWS` rows, are written by a background task to a private file
that only the auditor who asked downloads, each download audited, until it expires."""

import datetime as dt
import logging
import os
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal.business_calendar import business_date
from portal.display import business_datetime
from portal.models import AuditEvent
from refunds.exporters import EXPORTERS, base
from refunds.exporters.base import counted, csv_chunks, export_rows
from refunds.exporters.files import export_file_path, exports_purge
from refunds.models import ExportRun
from refunds.roles import AUDITOR, SUPPORT
from refunds.tasks import export_file_write
from tests.backoffice.test_exports import csv_rows, xlsx_rows
from tests.factories.refunds import RefundFactory

pytestmark = pytest.mark.django_db

TODAY = business_date(timezone.now())
EXPORT = reverse("admin:refunds_exportrun_export")
Status = ExportRun.Status


def form(key="check_register", file_format="xlsx"):
    return {
        "export": key,
        "file_format": file_format,
        "date_from": TODAY.isoformat(),
        "date_to": TODAY.isoformat(),
    }


def page(run):
    return reverse("admin:refunds_exportrun_file", args=[run.pk])


def download(run):
    return reverse("admin:refunds_exportrun_download", args=[run.pk])


def downloads():
    return AuditEvent.objects.filter(action="export.downloaded")


@pytest.fixture
def auditor(signed_in):
    return signed_in(AUDITOR)


@pytest.fixture
def checks():
    """Two checks issued today, $42.50 and $7.05."""
    return [
        RefundFactory(issued=True, issued_on=TODAY, check_number="410001", amount_cents=4250),
        RefundFactory(issued=True, issued_on=TODAY, check_number="410002", amount_cents=705),
    ]


@pytest.fixture
def ready(auditor, checks, django_capture_on_commit_callbacks):
    """An XLSX check register the task has written, asked for by `auditor`."""
    with django_capture_on_commit_callbacks(execute=True):
        auditor.post(EXPORT, form())
    run = ExportRun.objects.get()
    assert run.status == Status.READY
    return run


def test_an_xlsx_export_is_queued_then_written_in_the_background(
    auditor, checks, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as enqueue:
        asked = auditor.post(EXPORT, form())
    run = ExportRun.objects.get()
    assert asked.status_code == 302 and asked["Location"] == page(run)
    # On record before any row is read (rule S5.exports), the task not run yet.
    assert (run.status, run.row_count, run.rows_written) == (Status.QUEUED, 2, 0)
    assert AuditEvent.objects.get(action="export.check_register").after["rows"] == 2
    waiting = auditor.get(page(run))
    assert b'<meta http-equiv="refresh" content="2">' in waiting.content
    assert b'<progress id="export-progress" max="100" value="0">' in waiting.content
    assert b"Rows written: 0 of 2 (0%)" in waiting.content

    [write] = enqueue
    write()  # the immediate backend runs the task

    run.refresh_from_db()
    assert (run.status, run.rows_written) == (Status.READY, 2)
    path = export_file_path(run)
    assert path.parent == Path(settings.EXPORT_FILES_DIR)  # private, never a static or media URL
    assert path.stat().st_mode & 0o777 == 0o600
    assert run.file_size == path.stat().st_size and len(run.sha256) == 64
    assert run.expires_at == run.finished_at + dt.timedelta(hours=24)
    shown = auditor.get(page(run))
    assert b"http-equiv" not in shown.content
    assert download(run).encode() in shown.content
    assert business_datetime(run.expires_at).encode() in shown.content

    response = auditor.get(download(run))
    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert f'filename="check_register_{TODAY}_{TODAY}.xlsx"' in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    header, first, second = xlsx_rows(response)
    assert header[:2] == ["Check number", "Payee"]
    assert (first[0], second[0]) == ("410001", "410002")
    assert "42.50" in first and "7.05" in second  # number cells, exactly from the cents
    event = downloads().get()
    assert (event.object_id, event.actor_id) == (str(run.pk), run.actor_id)
    assert event.after["sha256"] == run.sha256


def test_a_big_csv_is_written_in_the_background_byte_for_byte_the_streamed_csv(
    auditor, settings, export_file
):
    RefundFactory.create_batch(3)
    RefundFactory(payee_name="=HYPERLINK(1)", status_reason='a "quoted", reason')
    streamed = auditor.post(EXPORT, form("refunds", "csv"))
    streamed_bytes = b"".join(streamed.streaming_content)
    assert ExportRun.objects.get().status == Status.STREAMED

    settings.EXPORT_CSV_BACKGROUND_ROWS = 3
    response = export_file(auditor, **form("refunds", "csv"))
    run = ExportRun.objects.latest("id")
    assert (run.status, run.row_count, run.rows_written) == (Status.READY, 4, 4)
    assert b"".join(response.streaming_content) == streamed_bytes
    assert len(csv_rows(auditor.get(download(run)))) == 4
    # the same bytes as the Python writer, the reference, whichever wrote it (COPY on PostgreSQL)
    exporter = EXPORTERS["refunds"]
    python = "".join(csv_chunks(exporter, export_rows(exporter, run))).encode()
    assert export_file_path(run).read_bytes() == python


def test_a_csv_up_to_the_threshold_still_downloads_at_once(auditor, settings):
    settings.EXPORT_CSV_BACKGROUND_ROWS = 2
    RefundFactory.create_batch(2)
    response = auditor.post(EXPORT, form("refunds", "csv"))
    assert len(csv_rows(response)) == 2
    assert ExportRun.objects.get().status == Status.STREAMED


def test_the_task_reads_the_rows_on_record_not_those_added_since(
    auditor, checks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as enqueue:
        auditor.post(EXPORT, form())
    RefundFactory(issued=True, issued_on=TODAY, check_number="410003")
    enqueue[0]()
    run = ExportRun.objects.get()
    assert (run.row_count, run.rows_written) == (2, 2)
    _header, *rows = xlsx_rows(auditor.get(download(run)))
    assert [row[0] for row in rows] == ["410001", "410002"]


def test_only_the_auditor_who_asked_downloads_it_and_nobody_else_is_recorded(ready, staff, auditor):
    for other in (staff(AUDITOR), staff(is_superuser=True)):
        client = Client()
        client.force_login(other)
        assert client.get(download(ready)).status_code == 404
        shown = client.get(page(ready))
        assert shown.status_code == 200
        assert download(ready).encode() not in shown.content
        assert b"who asked for this export, can download its file" in shown.content
    assert not downloads().exists()
    assert auditor.get(download(ready)).status_code == 200
    assert auditor.get(download(ready)).status_code == 200
    assert downloads().count() == 2  # each download audited


def test_support_sees_neither_the_page_nor_the_file(ready, staff):
    client = Client()
    client.force_login(staff(SUPPORT))
    assert client.get(page(ready)).status_code == 403
    assert client.get(download(ready)).status_code == 403
    assert not downloads().exists()


def test_after_expiry_a_plain_page_then_the_purge_deletes_the_file(ready, auditor):
    path = export_file_path(ready)
    ExportRun.objects.filter(pk=ready.pk).update(expires_at=timezone.now())
    gone = auditor.get(download(ready))
    assert gone.status_code == 410
    assert b"This export&#x27;s file is no longer kept. Run the export again." in gone.content
    assert b"The file expired at" in gone.content
    assert f'href="{EXPORT}">Run the export again'.encode() in gone.content
    assert not downloads().exists()
    assert path.exists()

    call_command("purge_expired_exports", stdout=open("/dev/null", "w"))  # noqa: SIM115
    ready.refresh_from_db()
    assert ready.status == Status.EXPIRED and not path.exists()
    assert exports_purge() == []  # twice: nothing left to do
    assert b"Expired" in auditor.get(page(ready)).content
    assert auditor.get(download(ready)).status_code == 410


def test_a_file_changed_on_the_server_is_not_sent(ready, auditor, caplog):
    path = export_file_path(ready)
    content = bytearray(path.read_bytes())
    content[-30] ^= 0xFF
    path.write_bytes(bytes(content))
    with caplog.at_level(logging.ERROR, logger="refunds.exporters.files"):
        refused = auditor.get(download(ready))
    assert refused.status_code == 409
    assert b"is not the one the export wrote, so it was not sent" in refused.content
    assert not downloads().exists()
    assert "SHA-256 differs" in caplog.text


def test_the_task_run_again_writes_once(ready, monkeypatch):
    written = export_file_path(ready).read_bytes()

    def must_not_run(*args, **kwargs):
        raise AssertionError("written twice")

    monkeypatch.setattr("refunds.exporters.files.xlsx_file", must_not_run)
    export_file_write.call(run_id=ready.pk)
    ExportRun.objects.filter(pk=ready.pk).update(status=Status.RUNNING)
    export_file_write.call(run_id=ready.pk)  # a second worker while the first writes
    assert ExportRun.objects.get().file_name == ready.file_name
    assert export_file_path(ready).read_bytes() == written


def test_a_failed_task_says_failed_in_plain_words(
    auditor, checks, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    def broken(*args, **kwargs):
        raise OSError("disk on fire at /secret/path")

    monkeypatch.setattr("refunds.exporters.files.xlsx_file", broken)
    with (
        caplog.at_level(logging.ERROR, logger="refunds.exporters.files"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        auditor.post(EXPORT, form())
    run = ExportRun.objects.get()
    assert run.status == Status.FAILED and run.finished_at is not None
    assert not export_file_path(run).exists()
    shown = auditor.get(page(run))
    assert b"Failed: The file could not be written. Run the export again" in shown.content
    assert b"disk on fire" not in shown.content and b"Traceback" not in shown.content
    assert b"http-equiv" not in shown.content
    assert "disk on fire" in caplog.text
    assert auditor.get(download(run)).status_code == 410


def test_progress_is_committed_as_the_rows_are_written(
    auditor, monkeypatch, django_capture_on_commit_callbacks
):
    RefundFactory.create_batch(5, issued=True, issued_on=TODAY)
    monkeypatch.setattr(base, "PROGRESS_EVERY", 2)
    seen = []
    plain = base.counted

    def watched(rows, progress):
        def report(count):
            progress(count)
            seen.append(ExportRun.objects.get().rows_written)

        return plain(rows, report)

    monkeypatch.setattr(base, "counted", watched)
    with django_capture_on_commit_callbacks(execute=True):
        auditor.post(EXPORT, form())
    assert seen == [2, 4]
    assert ExportRun.objects.get().rows_written == 5


def test_counted_reports_after_each_step_of_rows(monkeypatch):
    monkeypatch.setattr(base, "PROGRESS_EVERY", 2)
    reported = []
    assert list(counted(iter("abcde"), reported.append)) == list("abcde")
    assert reported == [2, 4]


def test_the_page_shows_the_progress_of_a_running_export(ready, auditor):
    ExportRun.objects.filter(pk=ready.pk).update(status=Status.RUNNING, rows_written=1)
    shown = auditor.get(page(ready))
    assert b'<progress id="export-progress" max="100" value="50">50%</progress>' in shown.content
    assert b"Rows written: 1 of 2 (50%)" in shown.content
    assert b'<meta http-equiv="refresh" content="2">' in shown.content


def test_the_list_of_exports_links_each_background_run_to_its_page(ready, auditor):
    listed = auditor.get(reverse("admin:refunds_exportrun_changelist"))
    assert f'<a href="{page(ready)}">Ready to download</a>'.encode() in listed.content


def test_retry_pending_work_runs_an_export_whose_task_was_lost(
    auditor, checks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():  # the task is never enqueued
        auditor.post(EXPORT, form())
    call_command("retry_pending_work", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert ExportRun.objects.get().status == Status.READY


def test_the_purge_fails_a_run_whose_worker_stopped(ready):
    path = export_file_path(ready)
    ExportRun.objects.filter(pk=ready.pk).update(
        status=Status.RUNNING, started_at=timezone.now() - dt.timedelta(hours=25)
    )
    assert exports_purge() == [ready.pk]
    ready.refresh_from_db()
    assert ready.status == Status.FAILED and "stopped before it finished" in ready.error
    assert not path.exists()


def test_the_purge_removes_files_no_run_keeps_once_they_are_old(ready, settings):
    directory = Path(settings.EXPORT_FILES_DIR)
    stray, fresh = directory / "tmpab12cd", directory / "tmpef34gh"
    stray.write_bytes(b"left by a stopped worker")
    fresh.write_bytes(b"being written")
    day_old = (timezone.now() - dt.timedelta(hours=25)).timestamp()
    os.utime(stray, (day_old, day_old))
    os.utime(export_file_path(ready), (day_old, day_old))
    assert exports_purge() == []
    assert not stray.exists()
    assert fresh.exists() and export_file_path(ready).exists()  # its run keeps it
