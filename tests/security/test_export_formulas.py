"""Cells a spreadsheet would run as a formula are defused in every export, the holder's
records download included, look-alike characters too (issue 9; SPEC §5, rule B1)."""

import csv
import datetime as dt
import io
import re
import zipfile
from decimal import Decimal, InvalidOperation

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from portal.audit import AuditAction, audit_record
from portal.business_calendar import business_date
from refunds.exporters import EXPORTERS
from refunds.exporters.base import escape_formula
from refunds.roles import AUDITOR
from tests.factories import UserFactory
from tests.factories.accounts import LedgerEntryFactory
from tests.factories.refunds import (
    ClosureFactory,
    FinalStatementFactory,
    HeldFundsFactory,
    RefundFactory,
)

pytestmark = pytest.mark.django_db

TODAY = business_date(timezone.now())
EXPORT = reverse("admin:refunds_exportrun_export")

# Each is read as a formula by some spreadsheet, once NFKC-folded or trimmed.
FORMULAS = [
    "=SUM(1)",
    "+1+1",
    "-1+1",
    "@SUM(1)",
    "\tx",
    "\rx",
    "＝SUM(1)",  # full-width equals sign
    "＋1",  # full-width plus sign
    "－1",  # full-width hyphen-minus
    "＠SUM(1)",  # full-width commercial at
    "﹦SUM(1)",  # small equals sign
    "⁼1",  # superscript equals sign
    " =SUM(1)",  # a leading space some imports trim
    "\u200b=SUM(1)",  # a zero-width space first
    "\u200f+1",  # a right-to-left mark first
]
PLAIN = ["Okafor", "O'Brien", "12-34", "", "APT 4B", "１２３", "María ＝ 1", "\u200fمرحبا"]


@pytest.mark.parametrize("text", FORMULAS)
def test_a_cell_read_as_a_formula_gets_a_leading_quote(text):
    assert escape_formula(text) == "'" + text


@pytest.mark.parametrize("text", PLAIN)
def test_other_text_is_left_as_typed(text):
    assert escape_formula(text) == text


def _is_formula(cell: str) -> bool:
    """A cell a spreadsheet would run: what `escape_formula` would change. Amounts are
    numbers (a negative amount is not a formula), so they are left out."""
    try:
        Decimal(cell)
    except InvalidOperation:
        return escape_formula(cell) != cell
    return False


def _csv_cells(response) -> list[str]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def _xlsx_cells(response) -> list[str]:
    """Every text cell of the first sheet (xlsxwriter writes inline strings)."""
    book = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book.read("xl/worksheets/sheet1.xml").decode()
    return [
        cell.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
        for cell in re.findall(r"<t(?: [^>]*)?>(.*?)</t>", sheet, flags=re.S)
    ]


@pytest.fixture
def typed_formulas(db):
    """One row for every export, each text column filled with look-alike formulas."""
    holder = UserFactory(first_name="＝SUM(1)", last_name="－1")
    closure = ClosureFactory(account__holder=holder)
    check = RefundFactory(
        closure=closure,
        mailed=True,
        issued_on=TODAY,
        payee_name="＋HYPERLINK(1)",
        status_reason="＠SUM(1)",
        address_line1="\u200b=SUM(1)",
    )
    FinalStatementFactory(direct_bill__account=closure.account)
    HeldFundsFactory(
        closure=ClosureFactory(account__holder__first_name="@SUM(1)"),
        remitted=True,
        reason="﹦SUM(1)",
        refund__payee_name="＋1",
    )
    with transaction.atomic():
        audit_record(
            actor=UserFactory(email="＝SUM(1)@example.test", staff=True),
            action=AuditAction.ACCOUNT_NOTE_ADDED,
            target=check,
            reason="＠SUM(1)",
        )
    return holder


# Every export with text someone typed; the erasure records (rule B7) hold only what the
# portal writes (stage, categories, dates), through the same writer.
TYPED_TEXT_EXPORTS = sorted(set(EXPORTERS) - {"erasures"})


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
@pytest.mark.parametrize("key", TYPED_TEXT_EXPORTS)
def test_no_export_has_a_cell_a_spreadsheet_would_run(
    signed_in, export_file, typed_formulas, key, file_format
):
    auditor = signed_in(AUDITOR)
    form = {
        "export": key,
        "file_format": file_format,
        "date_from": (TODAY - dt.timedelta(days=1)).isoformat(),
        "date_to": TODAY.isoformat(),
    }
    # XLSX is written by the background task (rule S5.exports), then downloaded.
    response = export_file(auditor, **form) if file_format == "xlsx" else auditor.post(EXPORT, form)
    assert response.status_code == 200
    cells = _csv_cells(response) if file_format == "csv" else _xlsx_cells(response)
    defused = [cell for cell in cells if cell.startswith("'")]
    assert defused, "the export should hold at least one of the typed formulas"
    assert all(escape_formula(cell[1:]) == cell for cell in defused)
    assert [cell for cell in cells if _is_formula(cell)] == []


def test_the_holders_records_download_defuses_formulas_and_keeps_amounts(client, db):
    """Rule B1: a memo or a number typed into the ledger cannot run in a spreadsheet."""
    entry = LedgerEntryFactory(refund=True, memo="＝HYPERLINK(1)", amount_cents=315)
    LedgerEntryFactory(advance_connect=entry.advance_connect, refund=True, memo="@SUM(1)")
    client.force_login(entry.advance_connect.account.holder)
    response = client.get(reverse("delete_account:records_csv"))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    memos = [row[2] for row in rows[1:]]
    assert memos == ["'＝HYPERLINK(1)", "'@SUM(1)"]
    assert [row[3] for row in rows[1:]] == ["-3.15", "-50.00"]
