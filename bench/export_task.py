"""The background export task measured (issue 13, SPEC §5): an XLSX of 1,000,000 rows
written by the task with a peak memory under 64 MiB, and a working download.

`measure_xlsx_task(rows)` runs the task (`refunds.tasks.export_file_write`, in this
process, as `db_worker` runs it) on an XLSX export of the first `rows` refunds of a
database `run.fill()` filled, then downloads the file as the auditor who asked (the
SHA-256 checked, the download audited) and checks it is a whole XLSX. Call it from a
fresh process: ru_maxrss is a high-water mark, so an earlier peak (filling the
database) would hide the task's.

Alone: `BENCH_DATABASE_URL=postgres://... python bench/export_task.py [rows]` fills the
scratch database if it has no refunds yet (in a child process), then prints the figures
as JSON. The database is migrated and filled: never point it at one you keep.
"""

import datetime as dt
import os
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import AUDITOR_EMAIL, REFUNDS, django_setup, fill, resident_kib  # noqa: E402

LIMIT_MIB = 64
READ_SIZE = 1 << 20


def _xlsx_run(rows: int):
    """A queued XLSX export of the first `rows` refunds (in the export's order),
    recorded as the form records one (the rows pinned by the highest id)."""
    from django.utils import timezone

    from accounts.models import User
    from portal.business_calendar import business_date
    from refunds.exporters import EXPORTERS
    from refunds.models import ExportRun

    exporter = EXPORTERS["refunds"]
    date_to = business_date(timezone.now())
    date_from = date_to - dt.timedelta(days=3650)
    ordered = exporter.queryset(date_from=date_from, date_to=date_to)
    last_id = ordered.values_list("pk", flat=True)[rows - 1]
    row_count = ordered.filter(pk__lte=last_id).count()
    return ExportRun.objects.create(
        exporter=exporter.key,
        file_format=ExportRun.Format.XLSX,
        date_from=date_from,
        date_to=date_to,
        row_count=row_count,
        last_id=last_id,
        actor=User.objects.get(email=AUDITOR_EMAIL),
        created_at=timezone.now(),
        status=ExportRun.Status.QUEUED,
    )


def _download(run) -> int:
    """Download the file as its auditor would; return its size in bytes once it is
    shown to be a whole XLSX."""
    from refunds.exporters.files import export_file_open, export_file_path

    size = 0
    with export_file_open(run_id=run.pk, actor=run.actor) as handle:
        while block := handle.read(READ_SIZE):
            size += len(block)
    with zipfile.ZipFile(export_file_path(run)) as book:
        if "xl/worksheets/sheet1.xml" not in book.namelist() or book.testzip() is not None:
            raise AssertionError(f"export {run.pk}: not a whole XLSX")
    return size


def measure_xlsx_task(rows: int, *, traced: bool = True) -> dict:
    """Run the background task for an XLSX export of `rows` refunds and report: the
    growth of this process's peak resident memory over the task (MiB), its seconds,
    the file's size, that the download works, and, `traced`, tracemalloc's peak of
    Python allocations in a second run (tracemalloc slows the task several times and
    inflates the resident memory, so it is measured apart)."""
    from django.test import override_settings

    from refunds.models import ExportRun
    from refunds.tasks import export_file_write

    files = tempfile.mkdtemp(prefix="portal-bench-exports-")
    try:
        with override_settings(EXPORT_FILES_DIR=Path(files)):
            run = _xlsx_run(rows)
            before = resident_kib()
            started = time.perf_counter()
            export_file_write.call(run_id=run.pk)
            seconds = time.perf_counter() - started
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            run.refresh_from_db()
            if run.status != ExportRun.Status.READY:
                raise AssertionError(f"export {run.pk}: {run.status} {run.error}")
            figures = {
                "export": "refunds as xlsx, by the background task",
                "rows": run.rows_written,
                "bytes": run.file_size,
                "seconds": round(seconds, 1),
                "maxrss_growth_mib": round((peak - before) / 1024, 1),
                "maxrss_mib": round(peak / 1024, 1),
                "download_ok": _download(run) == run.file_size,
            }
            if traced:
                again = _xlsx_run(rows)
                tracemalloc.start()
                export_file_write.call(run_id=again.pk)
                figures["tracemalloc_peak_mib"] = round(
                    tracemalloc.get_traced_memory()[1] / 2**20, 1
                )
                tracemalloc.stop()
    finally:
        shutil.rmtree(files, ignore_errors=True)
    worst = max(figures["maxrss_growth_mib"], figures.get("tracemalloc_peak_mib", 0))
    # The run holds every refund up to the id of the `rows`-th in the export's order.
    figures["ok"] = (
        figures["download_ok"] and figures["rows"] == run.row_count and worst < LIMIT_MIB
    )
    return figures


def main():
    import json
    import subprocess

    database_url = os.environ["BENCH_DATABASE_URL"]
    django_setup(database_url)
    if sys.argv[1:2] == ["--fill"]:
        fill()
        return
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else REFUNDS
    from django.db import connection

    from refunds.models import Refund

    # Filled in a child: its peak memory must not be this process's.
    table = Refund._meta.db_table
    if table not in connection.introspection.table_names() or not Refund.objects.exists():
        subprocess.run([sys.executable, __file__, "--fill"], check=True)  # noqa: S603
    print(json.dumps(measure_xlsx_task(rows)))


if __name__ == "__main__":
    main()
