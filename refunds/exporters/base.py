"""The one streaming writer every export shares (SPEC §5): CSV and XLSX in constant
memory at any size.

An exporter says which rows (`queryset`) and which columns; rows are read with
`.values_list(...).iterator()`, never as model instances. CSV streams as it is read;
XLSX is written by xlsxwriter in constant-memory mode to a file. The back office sends
XLSX, and CSV past `EXPORT_CSV_BACKGROUND_ROWS` rows, to a background task that writes
the file (`refunds.exporters.files`), so no export waits on a request's timeout.
"""

import csv
import datetime as dt
import io
import json
import os
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

import xlsxwriter
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Model, QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from accounts.models import User
from portal.audit import AuditAction, audit_record
from portal.business_calendar import business_zone
from portal.errors import Refused
from portal.money import cents_to_decimal

from ..models import ExportRun
from ..tasks import export_file_write

CHUNK_SIZE = 2000
# A background export reports its progress after every this many rows.
PROGRESS_EVERY = 10_000
XLSX_MAX_ROWS = 1_048_575  # a worksheet holds 1,048,576 rows, one of them the header
# A spreadsheet reads a cell starting with one of these as a formula (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class ExportRefused(Refused):
    """The export cannot be made as asked; nothing was recorded."""


def _first_visible(text: str) -> str:
    """The first character a spreadsheet may act on, NFKC-folded (full-width `＝＋－＠`,
    small and superscript forms become `= + - @`), past leading spaces and invisible
    format characters (zero-width space, direction marks), which imports may trim."""
    for char in text:
        if char.isspace() or unicodedata.category(char) == "Cf":
            continue
        return unicodedata.normalize("NFKC", char)[:1]
    return ""


def escape_formula(text: str) -> str:
    """Defuse a text cell (names, addresses, reasons: what people typed) that a
    spreadsheet would run as a formula, with a leading `'`. Money, numbers and dates
    are written by us as numbers and are never formulas, so a negative amount stays
    `-1.05`."""
    if text.startswith(FORMULA_START) or _first_visible(text) in FORMULA_START:
        return f"'{text}"
    return text


@dataclass(frozen=True)
class Column:
    """One column: its header, the `values_list` path it reads, and its kind: text,
    money (integer cents), number, date, datetime (written in UTC), bool or json."""

    header: str
    path: str
    kind: str = "text"


class Exporter:
    """One export: subclasses set the key, label, columns and the date field the
    range filters on, and may narrow or annotate `base_queryset`."""

    key = ""
    label = ""
    model: ClassVar[type[Model]]  # set by every subclass
    date_field = ""
    columns: list[Column] = []
    # Every column has an SQL twin of its Python cell, so PostgreSQL writes the CSV by COPY.
    copy_csv = False

    def csv_by_copy(self) -> bool:
        """The CSV is written by COPY here: the exporter has it and this is PostgreSQL."""
        return self.copy_csv and connection.vendor == "postgresql"

    def base_queryset(self) -> QuerySet[Any]:
        return self.model._default_manager.all()

    def queryset(self, *, date_from: dt.date, date_to: dt.date) -> QuerySet[Any]:
        """The rows dated from `date_from` to `date_to` inclusive, in the business
        time zone, oldest first."""
        field = self.model._meta.get_field(self.date_field)
        period: dict[str, object]
        if field.get_internal_type() == "DateTimeField":
            zone = business_zone()
            start = dt.datetime.combine(date_from, dt.time.min, tzinfo=zone)
            end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
            period = {f"{self.date_field}__gte": start, f"{self.date_field}__lt": end}
        else:
            period = {f"{self.date_field}__range": (date_from, date_to)}
        return self.base_queryset().filter(**period).order_by(self.date_field, "pk")

    def headers(self) -> list[str]:
        return [column.header for column in self.columns]

    def values(self, queryset: QuerySet[Any]) -> Iterator[tuple[Any, ...]]:
        return queryset.values_list(*[c.path for c in self.columns]).iterator(chunk_size=CHUNK_SIZE)


def _utc_text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


# How each kind of value becomes a cell: text (str) or a number or date written as is;
# None is always an empty cell.
CELL: dict[str, Callable[[Any], Any]] = {
    "text": str,
    "money": cents_to_decimal,
    "number": int,
    "date": lambda value: value,
    "datetime": _utc_text,
    "bool": lambda value: "yes" if value else "no",
    "json": lambda value: json.dumps(value, sort_keys=True, default=str),
}


def csv_stream(headers: Iterable[str], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """CSV text in pieces of `CHUNK_SIZE` rows, with a byte order mark so that
    spreadsheet programs read the file as UTF-8. Every text (str) cell goes through
    `escape_formula`; numbers (Decimal money, int) and dates are written as they are.
    The one CSV writer: the auditors' exports and the holder's records download."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow([escape_formula(header) for header in headers])
    for count, row in enumerate(rows, start=1):
        writer.writerow(
            [
                "" if cell is None else escape_formula(cell) if isinstance(cell, str) else cell
                for cell in row
            ]
        )
        if count % CHUNK_SIZE == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


Progress = Callable[[int], None]


def counted(
    rows: Iterator[tuple[Any, ...]], progress: Progress | None
) -> Iterator[tuple[Any, ...]]:
    """`rows` as they are; `progress(n)` once the first n rows are written, every
    `PROGRESS_EVERY` rows (called when the writer asks for the row after them)."""
    for count, row in enumerate(rows, start=1):
        yield row
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(count)


def csv_chunks(
    exporter: Exporter, queryset: QuerySet[Any], progress: Progress | None = None
) -> Iterator[str]:
    """An exporter's rows through `csv_stream`, each value made a cell by its kind."""
    cells = [CELL[column.kind] for column in exporter.columns]
    rows = (
        [None if value is None else cell(value) for cell, value in zip(cells, values, strict=True)]
        for values in counted(exporter.values(queryset), progress)
    )
    return csv_stream(exporter.headers(), rows)


def xlsx_file(
    exporter: Exporter, queryset: QuerySet[Any], path: str, progress: Progress | None = None
) -> int:
    """Write the XLSX to `path` in constant memory (each row is flushed to disk as
    soon as the next one starts) and return its row count. Money is a number cell with
    two decimals written from an exact Decimal, dates are date cells, text is never a
    formula."""
    workbook = xlsxwriter.Workbook(
        path,
        {"constant_memory": True, "in_memory": False, "tmpdir": os.path.dirname(path)},
    )
    sheet = workbook.add_worksheet(exporter.label[:31])
    bold = workbook.add_format({"bold": True})
    formats = {
        "money": workbook.add_format({"num_format": "#,##0.00"}),
        "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
        "datetime": workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
    }
    for col, header in enumerate(exporter.headers()):
        sheet.write_string(0, col, header, bold)
    kinds = list(enumerate(column.kind for column in exporter.columns))
    row = 0
    for row, values in enumerate(counted(exporter.values(queryset), progress), start=1):
        for col, kind in kinds:
            value = values[col]
            if value is None:
                continue
            if kind == "money":
                sheet.write_number(row, col, Decimal(value).scaleb(-2), formats["money"])
            elif kind == "number":
                sheet.write_number(row, col, value)
            elif kind == "date":
                sheet.write_datetime(row, col, value, formats["date"])
            elif kind == "datetime":
                utc = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
                sheet.write_datetime(row, col, utc, formats["datetime"])
            else:
                sheet.write_string(row, col, escape_formula(CELL[kind](value)))
    workbook.close()
    return row


def export_record(
    *,
    exporter: Exporter,
    file_format: str,
    date_from: dt.date,
    date_to: dt.date,
    actor: User,
    at_once: bool = False,
) -> tuple[ExportRun, QuerySet[Any]]:
    """Record the export; return the record and its rows.

    The record (an `ExportRun` and its audit event: who, which export, the dates,
    the row count) is written before the first row is read, so a download that is
    cut short is still on record. The count is honest because it is taken on the
    same rows the file holds: the rows are pinned to the highest id at the start
    (`last_id`, which a background task reads them by later), none of them is ever
    deleted, and the dates filtered on never change once set.

    XLSX, and CSV past `EXPORT_CSV_BACKGROUND_ROWS` rows, are queued for the background
    task (`export_file_write`, enqueued once the record is committed) unless `at_once`.
    """
    if date_from > date_to:
        raise ExportRefused("The start date is after the end date.")
    queryset = exporter.queryset(date_from=date_from, date_to=date_to)
    ceiling = exporter.model._default_manager.aggregate(top=Max("pk"))["top"] or 0
    queryset = queryset.filter(pk__lte=ceiling)
    with transaction.atomic():
        row_count = queryset.count()
        if file_format == ExportRun.Format.XLSX and row_count > XLSX_MAX_ROWS:
            raise ExportRefused(
                f"{row_count:,} rows do not fit in one XLSX sheet; export them as CSV."
            )
        background = not at_once and (
            file_format == ExportRun.Format.XLSX or row_count > settings.EXPORT_CSV_BACKGROUND_ROWS
        )
        run = ExportRun.objects.create(
            exporter=exporter.key,
            file_format=file_format,
            date_from=date_from,
            date_to=date_to,
            row_count=row_count,
            actor=actor,
            created_at=timezone.now(),
            last_id=ceiling,
            status=ExportRun.Status.QUEUED if background else ExportRun.Status.STREAMED,
        )
        audit_record(
            actor=actor,
            action=AuditAction(f"export.{exporter.key}"),
            target=run,
            after={
                "export": exporter.key,
                "format": file_format,
                "from": date_from,
                "to": date_to,
                "rows": row_count,
            },
            at=run.created_at,
        )
        if background:
            transaction.on_commit(lambda: export_file_write.enqueue(run_id=run.pk))
    return run, queryset


def export_rows(exporter: Exporter, run: ExportRun) -> QuerySet[Any]:
    """The rows `run` recorded: its dates, up to the highest id when it was asked for."""
    queryset = exporter.queryset(date_from=run.date_from, date_to=run.date_to)
    return queryset.filter(pk__lte=run.last_id or 0)


def csv_file_chunks(
    exporter: Exporter, queryset: QuerySet[Any], progress: Progress | None = None
) -> Iterator[str] | Iterator[bytes]:
    """The CSV's pieces: by COPY on PostgreSQL when the exporter has it, else the Python
    writer; the same bytes either way. COPY holds the connection until its last row, so
    there `progress` must report on a connection of its own."""
    if exporter.csv_by_copy():
        from .copy_csv import copy_csv_chunks  # it builds on this module

        return copy_csv_chunks(exporter, queryset, progress)
    return csv_chunks(exporter, queryset, progress)


def export_send(
    exporter: Exporter, run: ExportRun, queryset: QuerySet[Any]
) -> StreamingHttpResponse:
    """Stream a recorded CSV export now, each row sent as it is read. XLSX is never
    written inside a request: the background task writes it (`export_record`)."""
    filename = f"{exporter.key}_{run.date_from}_{run.date_to}.{run.file_format}"
    stream = StreamingHttpResponse(
        csv_file_chunks(exporter, queryset), content_type="text/csv; charset=utf-8"
    )
    stream["Content-Disposition"] = f'attachment; filename="{filename}"'
    return stream
