"""CSV exports written by PostgreSQL's COPY (issue 13; rule S5.exports): the same bytes
as the Python writer, which stays the reference, on data made to trip a CSV writer."""

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from portal.business_calendar import business_date
from portal.models import AuditEvent
from refunds.exporters import EXPORTERS, copy_csv
from refunds.exporters.base import csv_chunks
from refunds.exporters.copy_csv import copy_csv_chunks
from refunds.models import ExportRun, Refund
from refunds.roles import AUDITOR
from tests.factories.refunds import (
    ClosureFactory,
    FinalStatementFactory,
    HeldFundsFactory,
    RefundFactory,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="COPY is PostgreSQL's; on SQLite the Python writer is the only CSV writer",
    ),
]

TODAY = business_date(timezone.now())
# Formulas (ASCII, full-width, small, superscript, behind spaces and invisible marks),
# text that must be quoted, non-ASCII, the empty text, COPY's end-of-data marker.
TEXTS = [
    '=HYPERLINK("http://evil.test")',
    "＝1+1",
    " \u200b＋2",
    "\u3000－3",
    "﹫x",
    "⁼x",
    "⩵x",
    "@SUM(A1)",
    "+1",
    "-2",
    "\tx",
    "\rx",
    'Say "hi", then go',
    "line one\nline two",
    "crlf\r\nend",
    "a,b",
    "Zoë Ñúñez-Ødegård 李小龍",
    " leading space",
    "'already quoted",
    "O'Brien",
    "\\.",
    "",
]
AMOUNTS = [5, 100_000_000, 4250, 1]


@pytest.fixture
def tricky_rows():
    """Refunds, checks, closures, final statements and held funds whose texts are
    `TEXTS`; every other refund a card refund (no check number, no dates: NULLs)."""
    for i, text in enumerate(TEXTS):
        closure = ClosureFactory(
            account__holder__first_name=text,
            account__holder__last_name=text[::-1],
            refund_cents=0 if i % 2 else AMOUNTS[i % 4],
            balance_before_cents=AMOUNTS[(i + 1) % 4],
        )
        if i % 2:
            RefundFactory(
                closure=closure,
                card=True,
                amount_cents=AMOUNTS[i % 4],
                card_brand=text[:20],
                status_reason=text,
                overdue=i % 3 == 0,
            )
        else:
            RefundFactory(
                closure=closure,
                mailed=True,
                amount_cents=AMOUNTS[i % 4],
                payee_name=text,
                address_line2=text,
                status_reason=text,
            )
        statement = FinalStatementFactory(amount_cents=AMOUNTS[i % 4])
        closure.final_statement = statement
        closure.save()
        HeldFundsFactory(reason=text, closure__account__holder__first_name=text)


def python_bytes(exporter, queryset):
    return "".join(csv_chunks(exporter, queryset)).encode()


COPY_EXPORTS = sorted(key for key, exporter in EXPORTERS.items() if exporter.copy_csv)


def test_the_exports_written_by_copy_are_the_refunds_checks_closures_statements_and_held_funds():
    assert COPY_EXPORTS == [
        "check_register",
        "closures",
        "final_statements",
        "held_funds",
        "refunds",
        "unclaimed_property",
    ]


@pytest.mark.parametrize("key", COPY_EXPORTS)
def test_copy_writes_the_same_bytes_as_the_python_writer(key, tricky_rows):
    """rule S5.exports: formulas defused, quoting, NULLs, money and dates alike."""
    exporter = EXPORTERS[key]
    queryset = exporter.queryset(
        date_from=TODAY - dt.timedelta(days=400), date_to=TODAY + dt.timedelta(days=30)
    )
    expected = python_bytes(exporter, queryset)
    assert b"".join(copy_csv_chunks(exporter, queryset)) == expected
    rows = list(csv.reader(io.StringIO(expected.decode("utf-8-sig"), newline="")))
    if key != "unclaimed_property":  # none remitted
        assert len(rows) > len(TEXTS)


def test_the_refunds_csv_has_every_hard_case_defused_and_quoted(tricky_rows):
    exporter = EXPORTERS["refunds"]
    queryset = exporter.queryset(date_from=TODAY, date_to=TODAY)
    text = b"".join(copy_csv_chunks(exporter, queryset)).decode("utf-8")
    assert text.startswith("\ufeffRefund id,Closure reference,")
    for cell in (
        ",'＝1+1,",
        ",' \u200b＋2,",
        ",'\u3000－3,",
        ",'﹫x,",
        ",'⩵x,",
        ',"\'\rx",',
        ',"line one\nline two",',
        ',"Say ""hi"", then go",',
        ",1000000.00,",
        ",0.05,",
        ",Zoë Ñúñez-Ødegård 李小龍,",
    ):
        assert cell in text
    # The header, a row per refund, and the CR LF of "crlf\r\nend" as payee and reason.
    assert text.count("\r\n") == 1 + Refund.objects.count() + 2


def test_the_unclaimed_property_report_by_copy_matches_on_remitted_funds():
    for i, text in enumerate(TEXTS):
        HeldFundsFactory(
            remitted=True,
            amount_cents=AMOUNTS[i % 4],
            closure__account__holder__first_name=text,
            report_reference=f"TX-{text}"[:64],
        )
    exporter = EXPORTERS["unclaimed_property"]
    queryset = exporter.queryset(date_from=TODAY, date_to=TODAY)
    expected = python_bytes(exporter, queryset)
    assert expected.count(b"\r\n") >= len(TEXTS) + 1
    assert b"".join(copy_csv_chunks(exporter, queryset)) == expected


def test_an_export_by_copy_is_on_record_with_the_rows_copy_wrote(signed_in, tricky_rows):
    auditor = signed_in(AUDITOR)
    response = auditor.post(
        reverse("admin:refunds_exportrun_export"),
        {
            "export": "check_register",
            "file_format": "csv",
            "date_from": (TODAY - dt.timedelta(days=7)).isoformat(),
            "date_to": TODAY.isoformat(),
        },
    )
    body = b"".join(response.streaming_content)
    exporter = EXPORTERS["check_register"]
    queryset = exporter.queryset(date_from=TODAY - dt.timedelta(days=7), date_to=TODAY)
    assert body == python_bytes(exporter, queryset)
    written = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))[1:]
    run = ExportRun.objects.get()
    # The mailed checks of TEXTS and the voided checks behind the held funds.
    assert run.row_count == len(written) == len(TEXTS) // 2 + len(TEXTS)
    event = AuditEvent.objects.get(action="export.check_register")
    assert event.after["rows"] == len(written)
    assert event.actor == run.actor


def test_copy_writes_iso_dates_whatever_the_sessions_date_style(tricky_rows):
    exporter = EXPORTERS["check_register"]
    queryset = exporter.queryset(date_from=TODAY - dt.timedelta(days=7), date_to=TODAY)
    expected = python_bytes(exporter, queryset)
    with connection.cursor() as cursor:
        cursor.execute("SET DateStyle TO 'SQL, DMY'")
        try:
            written = b"".join(copy_csv_chunks(exporter, queryset))
        finally:
            cursor.execute("SET DateStyle TO ISO")
    assert written == expected
    assert f",{(TODAY - dt.timedelta(days=2)).isoformat()},".encode() in written  # issued


def test_copy_reports_its_progress_after_each_step_of_rows(monkeypatch):
    """Issue 13: a CSV written by COPY moves the export's progress bar as it goes."""
    RefundFactory.create_batch(5, issued=True, issued_on=TODAY)
    monkeypatch.setattr(copy_csv, "CHUNK_SIZE", 2)
    monkeypatch.setattr(copy_csv, "PROGRESS_EVERY", 4)
    exporter = EXPORTERS["check_register"]
    queryset = exporter.queryset(date_from=TODAY, date_to=TODAY)
    reported = []
    written = b"".join(copy_csv_chunks(exporter, queryset, reported.append))
    assert reported == [4]  # after the second chunk of two; the last chunk is the end
    assert written == python_bytes(exporter, queryset)
