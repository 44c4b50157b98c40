"""Exports too big for a request, written by a background task to a private file
(SPEC §5, issue 13).

The task (`refunds.tasks.export_file_write`) claims a queued `ExportRun`, writes its rows
in constant memory to a file with a random name under `EXPORT_FILES_DIR` (XLSX by
`xlsx_file`; CSV by the same pieces as the streamed CSV, so the same bytes), reports its
progress in short transactions of its own, and marks the run ready with the file's size
and SHA-256. Only the auditor who asked downloads it, each download audited, the file
checked against its SHA-256 first, until `EXPORT_FILE_EXPIRY_HOURS` after it was ready;
`purge_expired_exports` then deletes it.
"""

import datetime as dt
import hashlib
import logging
import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from portal.audit import AuditAction, audit_record
from portal.db import for_each_locked, locked

from ..models import ExportRun
from .base import ExportRefused, Progress, csv_file_chunks, export_rows, xlsx_file

logger = logging.getLogger(__name__)

Status = ExportRun.Status
# The names the task gives files: anything else read from the database is not opened.
FILE_NAME = re.compile(r"[0-9a-f]{32}\.(csv|xlsx)")
READ_SIZE = 1 << 20
FAILED_MESSAGE = "The file could not be written. Run the export again; the log has the details."


class ExportFileUnavailable(ExportRefused):
    """The file is not ready, or no longer kept."""


class ExportFileChanged(ExportRefused):
    """The file on the server is not the one the task wrote: it is not sent."""


def export_file_path(run: ExportRun) -> Path:
    """Where `run`'s file is kept, under `EXPORT_FILES_DIR`."""
    if not FILE_NAME.fullmatch(run.file_name):
        raise ValueError(f"export {run.pk}: not an export file name: {run.file_name!r}")
    return Path(settings.EXPORT_FILES_DIR) / run.file_name


def export_file_available(run: ExportRun, now: dt.datetime) -> bool:
    """Rule S5.exports: the file may be downloaded: ready and not yet expired."""
    return run.status == Status.READY and run.expires_at is not None and now < run.expires_at


def _sha256(handle: BinaryIO) -> str:
    digest = hashlib.sha256()
    while block := handle.read(READ_SIZE):
        digest.update(block)
    return digest.hexdigest()


def _claim(run_id: int) -> ExportRun | None:
    """Take a queued run for this worker (under its row lock), naming its file; None
    when it is not queued (another worker has it, or it is done)."""
    with transaction.atomic():
        run = locked(ExportRun, pk=run_id)
        if run.status != Status.QUEUED:
            return None
        run.status = Status.RUNNING
        run.started_at = timezone.now()
        run.file_name = f"{secrets.token_hex(16)}.{run.file_format}"
        run.save(update_fields=["status", "started_at", "file_name"])
    return run


def _write(run: ExportRun, path: Path) -> int:
    """Write `run`'s rows to `path`; return how many rows were written."""
    from . import EXPORTERS  # the registry imports every exporter, this module's callers

    exporter = EXPORTERS[run.exporter]
    queryset = export_rows(exporter, run)
    if run.file_format == ExportRun.Format.XLSX:
        with _progress(run, own_connection=False) as progress:
            return xlsx_file(exporter, queryset, str(path), progress)
    with open(path, "wb") as handle, _progress(run, exporter.csv_by_copy()) as progress:
        for chunk in csv_file_chunks(exporter, queryset, progress):
            handle.write(chunk.encode() if isinstance(chunk, str) else chunk)
    return run.row_count  # the rows the record pinned, read to the end


@contextmanager
def _progress(run: ExportRun, own_connection: bool) -> Iterator[Progress]:
    """`progress(rows)` saving how many of `run`'s rows are written, each committed at
    once so that the export's page shows it. The writers run outside any transaction,
    but COPY holds the task's connection in one until its last row: then the progress
    goes through a connection of its own, and if that one fails (no connection left,
    say) the bar stops moving but the file is still written."""

    def on_the_tasks(rows: int) -> None:
        ExportRun.objects.filter(pk=run.pk).update(rows_written=rows)

    if not own_connection:
        yield on_the_tasks
        return
    own = connections.create_connection(DEFAULT_DB_ALIAS)
    failed = False

    def on_its_own(rows: int) -> None:
        nonlocal failed
        if failed:
            return
        try:
            with own.cursor() as cursor:
                cursor.execute(
                    "UPDATE refunds_exportrun SET rows_written = %s WHERE id = %s", [rows, run.pk]
                )
        except DatabaseError:
            failed = True
            logger.warning(
                "Export %s: its progress could not be saved; the file is still written",
                run.pk,
                exc_info=True,
                extra={"export": run.pk},
            )

    try:
        yield on_its_own
    finally:
        own.close()


def export_file_write(*, run_id: int) -> None:
    """Rule S5.exports: write a queued export's file, once. A run that is already
    running, ready or failed is left alone, so a second worker does nothing. A failure
    marks the run failed with a plain message (the details go to the log) and removes
    what was written."""
    run = _claim(run_id)
    if run is None:
        return
    directory = Path(settings.EXPORT_FILES_DIR)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = export_file_path(run)
    try:
        # Private to the portal's user: created 0600, never overwritten.
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        rows = _write(run, path)
        with open(path, "rb") as handle:
            sha256 = _sha256(handle)
        size = path.stat().st_size
    except Exception:
        logger.exception("Export %s could not be written", run.pk, extra={"export": run.pk})
        path.unlink(missing_ok=True)
        ExportRun.objects.filter(pk=run.pk).update(
            status=Status.FAILED, error=FAILED_MESSAGE, finished_at=timezone.now()
        )
        raise
    finished = timezone.now()
    ExportRun.objects.filter(pk=run.pk, status=Status.RUNNING).update(
        status=Status.READY,
        rows_written=rows,
        file_size=size,
        sha256=sha256,
        finished_at=finished,
        expires_at=finished + dt.timedelta(hours=settings.EXPORT_FILE_EXPIRY_HOURS),
    )
    logger.info(
        "Export %s written: %s rows, %s bytes", run.pk, rows, size, extra={"export": run.pk}
    )


def export_file_open(*, run_id: int, actor: User, at: dt.datetime | None = None) -> BinaryIO:
    """Rule S5.exports: the file of `run_id` for the auditor who asked for it, open
    for reading, after checking it is the file the task wrote (its SHA-256); each
    download is audited before a byte leaves. Nobody else gets it, superusers included."""
    at = at or timezone.now()
    with transaction.atomic():
        run = locked(ExportRun, pk=run_id)
        if run.actor_id != actor.pk:
            raise PermissionDenied
        if not export_file_available(run, at):
            raise ExportFileUnavailable(
                "This export's file is no longer kept. Run the export again.", export=run.pk
            )
        try:
            handle = open(export_file_path(run), "rb")  # noqa: SIM115 - the response closes it
        except FileNotFoundError:
            logger.error("Export %s: its file is missing", run.pk, extra={"export": run.pk})
            raise ExportFileUnavailable(
                "This export's file is no longer on the server. Run the export again.",
                export=run.pk,
            ) from None
        if _sha256(handle) != run.sha256:
            handle.close()
            logger.error(
                "Export %s: the file on the server is not the one written (SHA-256 differs)",
                run.pk,
                extra={"export": run.pk},
            )
            raise ExportFileChanged(
                "The file on the server is not the one the export wrote, so it was not sent. "
                "Run the export again.",
                export=run.pk,
            )
        handle.seek(0)
        audit_record(
            actor=actor,
            action=AuditAction.EXPORT_DOWNLOADED,
            target=run,
            after={"export": run.exporter, "format": run.file_format, "sha256": run.sha256},
            at=at,
        )
    return handle


STOPPED_MESSAGE = "The export stopped before it finished (its worker was stopped). Run it again."


def _purge(run: ExportRun) -> int:
    if run.file_name:
        export_file_path(run).unlink(missing_ok=True)
    if run.status == Status.READY:
        run.status = Status.EXPIRED
    else:
        run.status, run.error, run.finished_at = Status.FAILED, STOPPED_MESSAGE, timezone.now()
    run.save(update_fields=["status", "error", "finished_at"])
    return run.pk


def _strays_remove(now: dt.datetime) -> None:
    """Files no run keeps (what a stopped worker or xlsxwriter left), once older than
    the expiry: a file being written is newer."""
    directory = Path(settings.EXPORT_FILES_DIR)
    if not directory.is_dir():
        return
    kept = set(
        ExportRun.objects.filter(status__in=[Status.READY, Status.RUNNING]).values_list(
            "file_name", flat=True
        )
    )
    cutoff = (now - dt.timedelta(hours=settings.EXPORT_FILE_EXPIRY_HOURS)).timestamp()
    for entry in os.scandir(directory):
        if entry.is_file() and entry.name not in kept and entry.stat().st_mtime < cutoff:
            Path(entry.path).unlink(missing_ok=True)


def exports_purge(now: dt.datetime | None = None) -> list[int]:
    """Rule S5.exports: delete the files past their expiry and mark their runs
    expired, and the part-written file of a run whose worker stopped (still running
    after the expiry time) marking it failed, and any other file left in the directory;
    safe to run twice or on two hosts at once. Returns the runs purged."""
    now = now or timezone.now()
    stalled_since = now - dt.timedelta(hours=settings.EXPORT_FILE_EXPIRY_HOURS)
    due = ExportRun.objects.filter(
        Q(status=Status.READY, expires_at__lte=now)
        | Q(status=Status.RUNNING, started_at__lte=stalled_since)
    )
    purged = for_each_locked(due, _purge)
    _strays_remove(now)
    return purged
