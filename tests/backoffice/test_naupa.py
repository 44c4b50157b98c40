"""Rules B6, B8: the unclaimed property report of one state in the NAUPA standard format,
checked field by field, and held against the property it covers."""

import datetime as dt

import pytest
from django.urls import reverse

from portal.models import AuditEvent
from refunds.bank_files import naupa
from refunds.exporters.base import ExportRefused
from refunds.exporters.naupa import naupa_report
from refunds.models import ExportRun, Refund
from tests.factories import CustomerAccountFactory, UserFactory
from tests.factories.refunds import ClosureFactory, HeldFundsFactory, RefundFactory

pytestmark = pytest.mark.django_db

S = Refund.Status
REMITTED = dt.date(2026, 3, 2)
REMITTED_AT = dt.datetime(2026, 3, 2, 16, 0, tzinfo=dt.timezone.utc)
CLOSED_AT = dt.datetime(2025, 6, 30, 15, 0, tzinfo=dt.timezone.utc)


def closure_of(first, last, number):
    holder = UserFactory(first_name=first, last_name=last)
    account = CustomerAccountFactory(
        holder=holder, number=number, status="closed", closed_at=CLOSED_AT
    )
    return ClosureFactory(account=account, closed_at=CLOSED_AT)


def escheated_check(closure, number, cents, state="NM"):
    return RefundFactory(
        closure=closure,
        issued=True,
        status=S.ESCHEATED,
        check_number=number,
        amount_cents=cents,
        issued_on=dt.date(2025, 7, 1),
        status_changed_at=REMITTED_AT,
        escheat_report_reference="NM-UP-2026-1",
        address_line1="12 CALLE DEL SOL",
        address_line2="APT 3",
        address_city="SANTA FE",
        address_state=state,
        address_zip="87501-1234",
    )


@pytest.fixture
def new_mexico_report():
    """Two stale checks escheated to New Mexico and one remitted held funds item; a
    Texas check that must stay out."""
    escheated_check(closure_of("María", "Peña", "100000000001"), "200001", 4250)
    escheated_check(closure_of("John", "Smith", "100000000002"), "200002", 1999)
    held_closure = closure_of("Ann", "Lee", "100000000003")
    HeldFundsFactory(
        closure=held_closure,
        refund__address_state="NM",
        refund__address_city="TAOS",
        refund__address_zip="87571",
        amount_cents=7500,
        remitted=True,
        remitted_on=REMITTED,
        remitted_to_state="NM",
        report_reference="NM-UP-2026-1",
    )
    escheated_check(closure_of("Tex", "Ranger", "100000000004"), "200004", 999, state="TX")


def test_a_state_report_has_the_naupa_records_widths_totals_and_counts(new_mexico_report):
    report = naupa_report(state="NM", date_from=REMITTED, date_to=REMITTED)

    assert report.content.endswith("\r\n")
    records = report.content.split("\r\n")[:-1]
    assert [record[0] for record in records] == ["1", "2", "2", "2", "9"]
    assert all(len(record) == 625 for record in records)

    holder = records[0]
    assert holder[1:10] == "000000000"  # HOLDER_TAX_ID
    assert holder[14:18] == "2026"  # HOLDER_REPORT_YEAR
    assert holder[18:20] == "01"  # HOLDER_REPORT_NUMBER
    assert holder[20:60] == "ACCOUNT PORTAL REFUNDS".ljust(40)

    first = records[1]
    assert first[1:7] == "000001"  # PROP_SEQUENCE_NUMBER
    assert first[7:37] == "PENA".ljust(30)  # owner last name, ASCII
    assert first[37:57] == "MARIA".ljust(20)
    assert first[97:127] == "12 CALLE DEL SOL".ljust(30)
    assert first[127:157] == "APT 3".ljust(30)
    assert first[187:217] == "SANTA FE".ljust(30)
    assert first[247:249] == "NM"
    assert first[249:258] == "875011234"
    assert first[269:277] == "20250630"  # date of last contact: the closure (business zone)
    assert first[277:281] == naupa.UNCASHED_CHECK == "MS16"
    assert first[281:291] == "0000004250"  # amount reported, implied decimals
    assert first[291:301] == "0000004250"  # amount remitted
    assert first[301:321] == "100000000001".ljust(20)
    assert first[321:341] == "200001".ljust(20)
    assert first[341:].strip() == ""

    assert records[2][1:7] == "000002"
    assert records[2][281:291] == "0000001999"
    held = records[3]
    assert held[277:281] == naupa.CREDIT_BALANCE == "MS09"
    assert held[281:291] == "0000007500"
    assert held[187:217].strip() == "TAOS"
    assert held[321:341].strip() == ""  # a credit balance, not a check

    summary = records[4]
    assert summary[1:7] == "000003"  # SUMM_NUMBER_OF_RECORDS: property records
    assert summary[7:19] == "000000013749"  # 42.50 + 19.99 + 75.00
    assert summary[19:31] == "000000013749"
    assert summary[31:].strip() == ""
    assert (report.property_count, report.total_cents) == (3, 13749)


def test_another_state_gets_only_its_own_property(new_mexico_report):
    report = naupa_report(state="TX", date_from=REMITTED, date_to=REMITTED)

    records = report.content.split("\r\n")[:-1]
    assert len(records) == 3
    assert records[1][321:341].strip() == "200004"


def test_a_report_that_does_not_match_what_it_covers_is_refused(new_mexico_report):
    """Counted on their own tables, the held funds and the escheated checks must add up
    to the report: money reported both as an escheated check and as remitted held funds
    is one property in the file but two in the books, and is refused."""
    HeldFundsFactory(
        refund__status=S.ESCHEATED,
        refund__status_changed_at=REMITTED_AT,
        refund__address_state="AZ",
        remitted=True,
        remitted_on=REMITTED,
        remitted_to_state="AZ",
        report_reference="AZ-1",
    )

    with pytest.raises(ExportRefused, match="does not add up"):
        naupa_report(state="AZ", date_from=REMITTED, date_to=REMITTED)


def test_auditors_download_the_naupa_file_and_it_is_recorded(new_mexico_report, signed_in):
    client = signed_in("Auditor")

    response = client.post(
        reverse("admin:refunds_exportrun_naupa"),
        {"state": "NM", "date_from": "2026-03-02", "date_to": "2026-03-02"},
    )

    assert response["Content-Disposition"] == (
        'attachment; filename="naupa_NM_2026-03-02_2026-03-02.txt"'
    )
    assert response.content.count(b"\r\n") == 5
    run = ExportRun.objects.get()
    assert (run.file_format, run.row_count) == (ExportRun.Format.NAUPA, 3)
    assert AuditEvent.objects.get(action="export.naupa").after["total_cents"] == 13749


def test_support_cannot_download_the_naupa_file(signed_in):
    client = signed_in("Support")

    assert client.get(reverse("admin:refunds_exportrun_naupa")).status_code == 403


def test_owner_names_hold_only_the_characters_naupa_allows():
    """Rules B6, B8: a NAUPA name field holds A-Z, 0-9, spaces and & only; punctuation
    would have the state return the whole file."""
    closure = closure_of("Mary-Jo.", "O'Brien-Núñez, Jr.", "100000000005")
    escheated_check(closure, "200005", 1500)
    report = naupa_report(state="NM", date_from=REMITTED, date_to=REMITTED)
    owner = report.content.split("\r\n")[1]
    assert owner[7:37] == "OBRIEN NUNEZ JR".ljust(30)
    assert owner[37:57] == "MARY JO".ljust(20)
