"""Exports for auditors (rule S5.exports): the right rows for the dates, money in dollars,
formulas defused, CSV and XLSX, and every export on record."""

import csv
import datetime as dt
import io
import re
import zipfile

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.audit import audit_seal_pending
from portal.business_calendar import business_date
from portal.models import AuditEvent
from portal.money import cents_to_decimal
from refunds.exporters import EXPORTERS
from refunds.exporters.base import csv_stream, escape_formula
from refunds.models import ExportRun, Refund
from refunds.roles import AUDITOR, SUPPORT
from tests.factories.refunds import ClosureFactory, FinalStatementFactory, RefundFactory

pytestmark = pytest.mark.django_db

TODAY = business_date(timezone.now())
EXPORT = reverse("admin:refunds_exportrun_export")


@pytest.fixture
def auditor(signed_in):
    return signed_in(AUDITOR)


def export(client, key, file_format="csv", date_from=TODAY, date_to=TODAY):
    return client.post(
        EXPORT,
        {
            "export": key,
            "file_format": file_format,
            "date_from": date_from.isoformat(),
            "date_to": date_to.isoformat(),
        },
    )


def csv_rows(response):
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def xlsx_rows(response):
    """The cells of the first sheet, as text (xlsxwriter writes inline strings)."""
    book = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book.read("xl/worksheets/sheet1.xml").decode()
    rows = []
    for row in re.findall(r"<row [^>]*>(.*?)</row>", sheet):
        rows.append(re.findall(r"<(?:v|t(?: [^>]*)?)>(.*?)</(?:v|t)>", row))
    return rows


def test_cells_that_a_spreadsheet_would_run_as_formulas_are_defused():
    for text in ["=HYPERLINK(1)", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]:
        assert escape_formula(text) == "'" + text
    assert escape_formula("Okafor") == "Okafor"


def test_money_is_written_from_cents_and_a_negative_amount_stays_a_number():
    amounts = [[cents_to_decimal(c)] for c in (0, 5, 4250, 123456789, -105)]
    text = "".join(csv_stream(["Amount"], amounts)).removeprefix("\ufeff")
    assert text.splitlines() == ["Amount", "0.00", "0.05", "42.50", "1234567.89", "-1.05"]


def test_the_check_register_lists_checks_issued_in_the_range(auditor):
    check = RefundFactory(
        mailed=True,
        check_number="410001",
        issued_on=TODAY,
        amount_cents=4250,
        payee_name='=HYPERLINK("http://evil.test")',
        address_line2="APT 4B",
    )
    RefundFactory(issued=True, issued_on=TODAY - dt.timedelta(days=40))  # before the range
    RefundFactory()  # not issued: no check yet
    RefundFactory(card=True)
    rows = csv_rows(export(auditor, "check_register"))
    assert len(rows) == 1
    row = rows[0]
    assert row["Check number"] == "410001"
    assert row["Payee"] == '\'=HYPERLINK("http://evil.test")'
    assert (row["Address line 1"], row["Address line 2"]) == ("1200 E 6TH ST", "APT 4B")
    assert (row["City"], row["State"], row["ZIP code"]) == ("AUSTIN", "TX", "78702")
    assert row["Amount"] == "42.50"
    assert (row["Issued"], row["Mailed"], row["Cleared"]) == (
        TODAY.isoformat(),
        check.mailed_on.isoformat(),
        "",
    )
    assert (row["Status"], row["Closure reference"]) == ("mailed", check.closure.reference)


def test_every_export_is_on_record_with_who_what_filter_and_rows(auditor):
    RefundFactory.create_batch(3)
    export(auditor, "refunds", date_from=TODAY - dt.timedelta(days=7))
    run = ExportRun.objects.get()
    assert (run.exporter, run.file_format, run.row_count) == ("refunds", "csv", 3)
    assert (run.date_from, run.date_to) == (TODAY - dt.timedelta(days=7), TODAY)
    event = AuditEvent.objects.get(action="export.refunds")
    assert event.actor == run.actor and event.actor.groups.get().name == AUDITOR
    assert event.after == {
        "export": "refunds",
        "format": "csv",
        "from": (TODAY - dt.timedelta(days=7)).isoformat(),
        "to": TODAY.isoformat(),
        "rows": 3,
    }


def test_the_refunds_export_says_which_are_overdue(auditor):
    late = RefundFactory(overdue=True)
    RefundFactory()
    rows = {row["Refund id"]: row for row in csv_rows(export(auditor, "refunds"))}
    assert rows[str(late.pk)]["Overdue"] == "yes"
    assert sorted(row["Overdue"] for row in rows.values()) == ["no", "yes"]


def test_closures_final_statements_and_the_audit_trail_export(auditor):
    closure = ClosureFactory(account__holder__first_name="-Eve", refund_cents=999)
    statement = FinalStatementFactory(amount_cents=1890)
    closure.final_statement = statement
    closure.save()
    FinalStatementFactory(is_final=False)

    closures = csv_rows(export(auditor, "closures"))
    assert [(r["Closure reference"], r["Refund"]) for r in closures] == [
        (closure.reference, "9.99")
    ]
    assert closures[0]["Holder"].startswith("'-Eve ")

    statements = csv_rows(export(auditor, "final_statements"))
    assert [
        (s["Statement id"], s["Amount"], s["Paid"], s["Closure reference"]) for s in statements
    ] == [(str(statement.pk), "18.90", "0.00", closure.reference)]

    trail = csv_rows(export(auditor, "audit_trail"))
    assert [row["Action"] for row in trail] == ["export.closures", "export.final_statements"]
    assert trail[0]["After"].startswith('{"export": "closures"')
    assert {row["Key id"] for row in trail} == {"dev"}  # rule S5.audit: verified per key
    # rule S5.audit: each event names the seal that links it into the chain, once sealed.
    assert {row["Seal"] for row in trail} == {""}
    audit_seal = audit_seal_pending(at=timezone.now())
    sealed = csv_rows(export(auditor, "audit_trail"))
    assert [row["Action"] for row in sealed][2:] == ["export.audit_trail"]
    assert [row["Seal"] for row in sealed] == [str(audit_seal.pk)] * 3


def test_xlsx_has_the_same_rows_money_as_numbers_and_no_formulas(auditor, export_file):
    RefundFactory(issued=True, issued_on=TODAY, check_number="410002", payee_name="@evil")
    response = export_file(
        auditor,
        export="check_register",
        file_format="xlsx",
        date_from=TODAY.isoformat(),
        date_to=TODAY.isoformat(),
    )
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert 'filename="check_register_' in response["Content-Disposition"]
    header, row = xlsx_rows(response)
    assert header[:3] == ["Check number", "Payee", "Address line 1"]
    assert row[:2] == ["410002", "'@evil"]
    assert "42.50" in row  # a number cell, exactly from the cents
    assert ExportRun.objects.get().row_count == 1


def test_a_date_range_that_ends_before_it_starts_is_refused(auditor):
    page = export(auditor, "refunds", date_from=TODAY, date_to=TODAY - dt.timedelta(days=1))
    assert page.status_code == 200
    assert b"The start date is after the end date." in page.content
    assert not ExportRun.objects.exists()


def test_only_auditors_export(signed_in):
    client = signed_in(SUPPORT)
    assert client.get(EXPORT).status_code == 403
    assert export(client, "refunds").status_code == 403
    assert not ExportRun.objects.exists()


def test_the_admin_index_links_auditors_to_the_exports(auditor):
    index = auditor.get(reverse("admin:index"))
    assert EXPORT.encode() in index.content


def test_rows_are_read_as_values_never_as_model_instances(django_assert_max_num_queries):
    RefundFactory.create_batch(5)
    exporter = EXPORTERS["refunds"]
    queryset = exporter.queryset(date_from=TODAY, date_to=TODAY)
    with django_assert_max_num_queries(1):
        rows = list(exporter.values(queryset))
    assert len(rows) == 5 and all(isinstance(row, tuple) for row in rows)
    assert Refund.objects.count() == 5
