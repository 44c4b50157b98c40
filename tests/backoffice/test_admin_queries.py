"""The back office lists stay fast at any size: a bounded number of queries whether
there are 10 rows or 1,000 (STYLE 6: list_select_related, no full count)."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import DirectBillStatement
from portal.business_calendar import business_date
from refunds.roles import AUDITOR, REFUND_OPERATIONS
from tests.factories import DirectBillFactory
from tests.factories.refunds import refunds_in_bulk

pytestmark = pytest.mark.django_db


def statements_in_bulk(count):
    direct_bill = DirectBillFactory()
    today = business_date(timezone.now())
    DirectBillStatement.objects.bulk_create(
        DirectBillStatement(
            direct_bill=direct_bill,
            statement_date=today,
            amount_cents=1000 + i,
            due_date=today + dt.timedelta(days=20),
            is_final=True,
            created_at=timezone.now(),
        )
        for i in range(count)
    )


LISTS = [
    ("refunds", "admin:refunds_refund_changelist", {}, REFUND_OPERATIONS),
    ("checks", "admin:refunds_refund_changelist", {"method__exact": "check"}, REFUND_OPERATIONS),
    (
        "overdue",
        "admin:refunds_refund_changelist",
        {"overdue": "yes", "closure__account__service_state__exact": "TX"},
        REFUND_OPERATIONS,
    ),
    (
        "final statements",
        "admin:accounts_directbillstatement_changelist",
        {"is_final__exact": "1"},
        REFUND_OPERATIONS,
    ),
    ("closures", "admin:refunds_closure_changelist", {}, AUDITOR),
    ("accounts", "admin:accounts_customeraccount_changelist", {"q": "Bulk"}, AUDITOR),
]


@pytest.mark.parametrize("rows", [10, 1000])
@pytest.mark.parametrize(
    "name, url, query, role", [pytest.param(*case, id=case[0]) for case in LISTS]
)
def test_lists_run_in_a_bounded_number_of_queries(
    signed_in, django_assert_max_num_queries, rows, name, url, query, role
):
    refunds_in_bulk(rows)
    statements_in_bulk(rows)
    client = signed_in(role)
    with django_assert_max_num_queries(8):
        page = client.get(reverse(url), query)
    assert page.status_code == 200
    shown = len(page.context["cl"].result_list)
    assert shown == min(rows, 100) or name == "overdue"
