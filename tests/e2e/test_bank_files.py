"""Rule B8 in a real browser: refund operations download the Positive Pay issue file,
import the bank's paid-items file, see the check cleared and the exceptions, and the
back office's first page counts them."""

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from portal.business_calendar import business_date
from refunds.dashboard import dashboard_chart
from refunds.models import PositivePayFile, Refund
from refunds.roles import assign_demo_roles
from tests.helpers import bai2_paid_items

pytestmark = pytest.mark.e2e


def test_refunds_clerk_sends_the_issue_file_and_clears_paid_checks(
    demo, page, live_server, staff_sign_in, tmp_path, no_serious_axe_violations
):
    assign_demo_roles()
    mailed = Refund.objects.filter(status=Refund.Status.MAILED).order_by("check_number")
    cleared, mismatched = mailed[0], mailed[1]
    staff_sign_in("refunds@demo.test")
    dashboard = page.locator("#dashboard")
    expect(dashboard).to_contain_text("Exceptions from the last bank file")
    exceptions_tile = dashboard.get_by_role("row", name="Exceptions from the last bank file")
    expect(exceptions_tile.locator(".dashboard-count")).to_have_text("0")
    today = business_date(timezone.now())
    cleared_before = dashboard_chart(today=today).cleared_total

    # The issue file for the bank: every check issued since the last file.
    page.get_by_role("link", name="New Positive Pay issue file").click()
    no_serious_axe_violations("new issue file")
    with page.expect_download() as download:
        page.get_by_role("button", name="Make and download the issue file").click()
    issue_file = tmp_path / download.value.suggested_filename
    download.value.save_as(issue_file)
    content = issue_file.read_bytes()
    assert content == PositivePayFile.objects.get().content.encode("ascii")
    assert f"{cleared.check_number:0>10}".encode() in content

    # The bank's paid items: one check as issued, one for another amount, one unknown.
    paid_file = tmp_path / "paid-items.bai"
    paid_file.write_bytes(
        bai2_paid_items(
            [
                (cleared.check_number, cleared.amount_cents),
                (mismatched.check_number, mismatched.amount_cents + 100),
                ("999999", 1234),
            ],
            as_of=f"{today:%y%m%d}",
            account=settings.POSITIVE_PAY_ACCOUNT_NUMBER,
        )
    )
    page.goto(f"{live_server.url}/admin/")
    page.get_by_role("link", name="Import a paid-items file").click()
    page.get_by_label("Paid-items file from the bank (BAI2)").set_input_files(paid_file)
    page.get_by_role("button", name="Import").click()
    expect(page.locator(".messagelist")).to_contain_text("1 checks cleared, 2 exceptions")
    expect(page.locator("body")).to_contain_text("Amount differs")
    expect(page.locator("body")).to_contain_text("Unknown check number")
    cleared.refresh_from_db()
    assert cleared.status == Refund.Status.CASHED

    # The first page now counts the two exceptions and one more check cleared.
    page.goto(f"{live_server.url}/admin/")
    expect(exceptions_tile.locator(".dashboard-count")).to_have_text("2")
    expect(page.locator(".dashboard-cleared")).to_contain_text(f"cleared ({cleared_before + 1})")
