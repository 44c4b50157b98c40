"""The back office's first page: today's numbers, each a link to its list, and the
90-day chart of checks issued and cleared, as SVG without script."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portal.business_calendar import business_date
from refunds.dashboard import dashboard_chart, dashboard_tiles
from refunds.models import Refund
from tests.factories.refunds import HeldFundsFactory, HolderNoticeFactory, RefundFactory

pytestmark = pytest.mark.django_db

S = Refund.Status


def tiles_by_label():
    now = timezone.now()
    return {
        tile.label.split(" (")[0]: tile
        for tile in dashboard_tiles(today=business_date(now), now=now)
    }


def test_each_number_counts_the_work_of_today():
    today = business_date(timezone.now())
    RefundFactory(due_date=today, amount_cents=1000)  # to print, due today
    RefundFactory(issued=True, overdue=True, amount_cents=2000)  # to mail, overdue
    RefundFactory(issued=True, status=S.MAILED, mailed_on=today)  # nothing to do
    HeldFundsFactory(held_since=timezone.now() - dt.timedelta(days=3 * 365 - 100))
    HeldFundsFactory()  # held today: far from its disposition
    HolderNoticeFactory(failing=True)

    tiles = tiles_by_label()

    assert (tiles["Refunds due today"].count, tiles["Refunds due today"].cents) == (1, 1000)
    assert (tiles["Refunds overdue"].count, tiles["Refunds overdue"].cents) == (1, 2000)
    assert tiles["Checks to print"].count == 1
    assert tiles["Checks to mail"].count == 1
    assert tiles["Exceptions from the last bank file"].count == 0
    assert tiles["Held funds within 120 days of their disposition"].count == 1
    assert tiles["Emails to holders not sent"].count == 1


def test_each_number_links_to_a_list_of_exactly_those_rows(signed_in):
    today = business_date(timezone.now())
    RefundFactory(due_date=today, payee_name="Due Today")
    RefundFactory(payee_name="Due Later")
    RefundFactory(issued=True, overdue=True, payee_name="Late Mail")
    HeldFundsFactory(held_since=timezone.now() - dt.timedelta(days=3 * 365 - 100))
    client = signed_in("Refund operations")

    for label, expected in [
        ("Refunds due today", "Due Today"),
        ("Refunds overdue", "Late Mail"),
        ("Held funds within 120 days of their disposition", "1 held funds"),
    ]:
        page = client.get(tiles_by_label()[label].url).content.decode()
        assert expected in page, label
        assert "Due Later" not in page, label


def test_the_index_shows_the_numbers_and_the_chart(signed_in):
    today = business_date(timezone.now())
    RefundFactory(issued=True, issued_on=today)
    client = signed_in("Refund operations")

    page = client.get(reverse("admin:index")).content.decode()

    assert "Checks to mail" in page
    assert '<svg viewBox="-4 -4 728 168"' in page
    assert "solid line, issued (1)" in page
    assert "<script" not in page.split('id="dashboard"')[1].split("</figure>")[0]
    assert reverse("admin:refunds_positivepayfile_new") in page


def test_the_chart_counts_checks_issued_and_cleared_per_day():
    today = business_date(timezone.now())
    RefundFactory(issued=True, issued_on=today)
    RefundFactory(issued=True, issued_on=today)
    RefundFactory(
        issued=True,
        status=S.CASHED,
        issued_on=today - dt.timedelta(days=5),
        mailed_on=today - dt.timedelta(days=4),
        cleared_on=today - dt.timedelta(days=1),
    )
    RefundFactory(issued=True, issued_on=today - dt.timedelta(days=90))  # outside

    chart = dashboard_chart(today=today)

    assert len(chart.days) == 90
    assert (chart.issued[-1], chart.issued[-6], chart.cleared[-2]) == (2, 1, 1)
    assert (chart.issued_total, chart.cleared_total, chart.top) == (3, 1, 2)
    assert chart.issued_points.split()[-1] == "720.0,0.0"  # today at the top
    assert chart.cleared_points.split()[0] == "0.0,160.0"


def test_support_sees_no_bank_file_links(signed_in):
    page = signed_in("Support").get(reverse("admin:index")).content.decode()

    assert "Checks to print" in page
    assert reverse("admin:refunds_positivepayfile_new") not in page


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="query plans are PostgreSQL's")
def test_no_number_reads_the_whole_refunds_table():
    """issue 13: at ten million refunds the first page took 3.9 s, each number a scan of
    every refund; the refunds still to send and the checks cleared have indexes of their
    own. With sequential scans priced out, a query that still needs one shows it."""
    RefundFactory(due_date=business_date(timezone.now()))
    with CaptureQueriesContext(connection) as captured:
        tiles_by_label()
        dashboard_chart(today=business_date(timezone.now()))
    refunds = [q["sql"] for q in captured if 'FROM "refunds_refund"' in q["sql"]]
    assert len(refunds) == 6
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for sql in refunds:
            cursor.execute(f"EXPLAIN {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "Seq Scan on refunds_refund" not in plan, plan
