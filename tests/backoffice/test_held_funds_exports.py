"""Exports of held funds (rules S5.exports, N4) and the unclaimed property report (rule B6):
the right rows for the dates, owner by owner, money in dollars, formulas defused."""

import datetime as dt

import pytest
from django.utils import timezone

from portal.actors import SYSTEM
from portal.business_calendar import business_date
from refunds.models import ExportRun, HeldFunds, Refund
from refunds.roles import AUDITOR
from refunds.services.transitions import refund_mark_escheated
from tests.backoffice.test_exports import csv_rows, export, xlsx_rows
from tests.factories.refunds import HeldFundsFactory, refund_in

pytestmark = pytest.mark.django_db

NOW = timezone.now()
TODAY = business_date(NOW)
LONG_AGO = TODAY - dt.timedelta(days=40)


@pytest.fixture
def auditor(signed_in):
    return signed_in(AUDITOR)


def test_the_held_funds_export_lists_funds_held_in_the_range(auditor):
    held = HeldFundsFactory(
        closure__account__holder__first_name="Charles",
        closure__account__holder__last_name="Okafor",
        amount_cents=6150,
        reason="=HYPERLINK(1) came back",
    )
    remitted = HeldFundsFactory(remitted=True)
    HeldFundsFactory(held_since=NOW - dt.timedelta(days=40))  # before the range
    rows = csv_rows(export(auditor, "held_funds", date_from=TODAY - dt.timedelta(days=7)))
    assert [row["Closure reference"] for row in rows] == [
        held.closure.reference,
        remitted.closure.reference,
    ]
    first, second = rows
    assert (first["Holder"], first["Amount"], first["Status"]) == (
        "Charles Okafor",
        "61.50",
        "held",
    )
    assert first["Why it is held"] == "'=HYPERLINK(1) came back"
    assert first["Held since (UTC)"] == held.held_since.astimezone(dt.timezone.utc).strftime(
        "%Y-%m-%d %H:%M:%S"
    )
    assert (
        first["Owner notice mailed"],
        first["Remitted"],
        first["Unclaimed property report"],
    ) == (
        "",
        "",
        "",
    )
    assert (
        second["Status"],
        second["Owner notice mailed"],
        second["Remitted"],
        second["Remitted to (state)"],
        second["Unclaimed property report"],
    ) == (
        "remitted",
        (TODAY - dt.timedelta(days=90)).isoformat(),
        TODAY.isoformat(),
        "TX",
        "TX-UP-2026-0001",
    )
    assert ExportRun.objects.get().row_count == 2


@pytest.fixture
def remitted_property():
    """Remitted today: held funds (to TX) and an escheated check (NM address); remitted
    40 days ago: one of each; not remitted: funds still held and a stale check."""
    held = HeldFundsFactory(
        remitted=True,
        closure__account__holder__first_name="Charles",
        closure__account__holder__last_name="Okafor",
    )
    check = refund_in(
        Refund.Method.CHECK,
        Refund.Status.ESCHEATED,
        amount_cents=7300,
        address_line1="455 W 2ND ST",
        address_line2="APT 3",
        address_city="ROSWELL",
        address_state="NM",
        address_zip="88201",
        escheat_report_reference="NM-UP-2026-0042",
        closure__account__holder__first_name="Ana",
        closure__account__holder__last_name="Reyes",
    )
    old_held = HeldFundsFactory(remitted=True, remitted_on=LONG_AGO)
    old_check = refund_in(
        Refund.Method.CHECK,
        Refund.Status.ESCHEATED,
        status_changed_at=NOW - dt.timedelta(days=40),
    )
    HeldFundsFactory()
    refund_in(Refund.Method.CHECK, Refund.Status.STALE)
    return held, check, old_held, old_check


def test_the_unclaimed_property_report_lists_what_was_remitted_owner_by_owner(
    auditor, remitted_property
):
    held, check, _old_held, _old_check = remitted_property
    rows = csv_rows(export(auditor, "unclaimed_property"))
    assert [(row["Owner"], row["Property"]) for row in rows] == [
        ("Charles Okafor", "held funds"),
        ("Ana Reyes", "stale check"),
    ]
    funds, stale = rows
    assert (
        funds["Address line 1"],
        funds["City"],
        funds["Address state"],
        funds["ZIP code"],
        funds["Amount"],
        funds["Remitted"],
        funds["Remitted to (state)"],
        funds["Unclaimed property report"],
        funds["Closure reference"],
        funds["Check number"],
    ) == (
        "1200 E 6TH ST",
        "AUSTIN",
        "TX",
        "78702",
        "42.50",
        TODAY.isoformat(),
        "TX",
        "TX-UP-2026-0001",
        held.closure.reference,
        held.refund.check_number,
    )
    assert (
        stale["Address line 1"],
        stale["Address line 2"],
        stale["City"],
        stale["ZIP code"],
        stale["Amount"],
        stale["Remitted"],
        stale["Remitted to (state)"],
        stale["Unclaimed property report"],
        stale["Check number"],
    ) == (
        "455 W 2ND ST",
        "APT 3",
        "ROSWELL",
        "88201",
        "73.00",
        TODAY.isoformat(),
        "NM",
        "NM-UP-2026-0042",
        check.check_number,
    )
    run = ExportRun.objects.get()
    assert (run.exporter, run.row_count) == ("unclaimed_property", 2)


def test_the_unclaimed_property_report_covers_the_whole_range_by_date(auditor, remitted_property):
    held, check, old_held, old_check = remitted_property
    rows = csv_rows(export(auditor, "unclaimed_property", date_from=LONG_AGO))
    # by the day remitted, then in the order the refunds were made
    assert [row["Closure reference"] for row in rows] == [
        old_held.closure.reference,
        old_check.closure.reference,
        held.closure.reference,
        check.closure.reference,
    ]
    assert [row["Remitted"] for row in rows] == [LONG_AGO.isoformat()] * 2 + [TODAY.isoformat()] * 2


def test_a_check_escheated_late_in_the_evening_counts_on_that_business_day(auditor):
    stale = refund_in(Refund.Method.CHECK, Refund.Status.STALE)
    # 03:30 UTC on 10 March 2027 is 22:30 on 9 March in Chicago (CDT, UTC-5)
    evening = dt.datetime(2027, 3, 10, 3, 30, tzinfo=dt.timezone.utc)
    refund_mark_escheated(refund=stale, actor=SYSTEM, report_reference="TX-UP-2027-7", at=evening)
    day = dt.date(2027, 3, 9)
    rows = csv_rows(export(auditor, "unclaimed_property", date_from=day, date_to=day))
    assert [(row["Remitted"], row["Unclaimed property report"]) for row in rows] == [
        ("2027-03-09", "TX-UP-2027-7")
    ]
    next_day = day + dt.timedelta(days=1)
    assert (
        csv_rows(export(auditor, "unclaimed_property", date_from=next_day, date_to=next_day)) == []
    )


def test_the_unclaimed_property_report_as_xlsx(auditor, remitted_property, export_file):
    response = export_file(
        auditor,
        export="unclaimed_property",
        file_format="xlsx",
        date_from=TODAY.isoformat(),
        date_to=TODAY.isoformat(),
    )
    header, *rows = xlsx_rows(response)
    assert header[:3] == ["Owner", "Address line 1", "Address line 2"]
    assert len(rows) == 2 and "42.50" in rows[0]
    assert HeldFunds.objects.count() == 3  # the export changed nothing
