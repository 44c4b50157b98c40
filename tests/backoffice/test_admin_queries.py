"""The back office lists stay fast at any size: a bounded number of queries whether
there are 10 rows or 1,000 (STYLE 6: list_select_related, no full count)."""

import datetime as dt

import pytest
from django.contrib import admin
from django.contrib.admin import ModelAdmin
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.views.main import ChangeList
from django.urls import get_script_prefix, reverse, set_script_prefix
from django.utils import timezone
from django.utils.html import escape

from accounts.models import DirectBillStatement
from portal.business_calendar import business_date
from refunds.admin.base import (
    LIST_PER_PAGE,
    STATE_CODE,
    STATE_NAMES,
    StateListFilter,
    change_url,
)
from refunds.models import Refund
from refunds.roles import AUDITOR, REFUND_OPERATIONS
from tests.factories import DirectBillFactory
from tests.factories.refunds import RefundFactory, refunds_in_bulk

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
    assert shown == min(rows, LIST_PER_PAGE) or name == "overdue"


def test_a_list_page_shows_25_rows_and_the_next_page_the_rest(signed_in):
    """Issue 13: a page of 100 rows took 3-4 times the 50 ms a list may take at ten
    million refunds (the admin's cost is per row); 25 a page, the rest on the next."""
    refunds_in_bulk(30)
    client = signed_in(REFUND_OPERATIONS)
    url = reverse("admin:refunds_refund_changelist")
    first = client.get(url).context["cl"]
    second = client.get(url, {"p": "2"}).context["cl"]
    assert len(first.result_list) == LIST_PER_PAGE == 25
    assert len(second.result_list) == 5
    assert not {r.pk for r in first.result_list} & {r.pk for r in second.result_list}


def test_the_accounts_list_names_each_service_state(signed_in):
    """The state column reads "Texas", from names computed once, not by sorting every
    state's translated name for each row."""
    refunds_in_bulk(3)
    page = signed_in(AUDITOR).get(reverse("admin:accounts_customeraccount_changelist"))
    assert page.status_code == 200
    assert '<td class="field-state">Texas</td>' in page.content.decode()


def test_each_rows_checkbox_is_the_one_django_renders():
    """The checkbox is written as HTML (a widget rendered per row cost as much as the
    rest of the row): the same HTML as Django's, for bulk actions and screen readers."""
    refund = RefundFactory()
    model_admin = admin.site._registry[Refund]
    ours = model_admin.action_checkbox(refund)
    assert ours == ModelAdmin.action_checkbox(model_admin, refund)
    assert f'value="{refund.pk}"' in ours and str(refund) in ours


@pytest.mark.parametrize("query", [{}, {"method__exact": "check", "o": "-4"}])
def test_each_rows_link_is_the_one_django_writes(signed_in, query):
    """Each row's link is written from one URL per page: the same link as Django's, with
    the list's filters carried along to come back to the same list."""
    refunds_in_bulk(3)
    page = signed_in(REFUND_OPERATIONS).get(reverse("admin:refunds_refund_changelist"), query)
    cl = page.context["cl"]
    html = page.content.decode()
    for refund in cl.result_list:
        djangos = add_preserved_filters(
            {
                "preserved_filters": cl.model_admin.get_preserved_filters(page.wsgi_request),
                "opts": cl.opts,
            },
            ChangeList.url_for_result(cl, refund),
        )
        assert cl.url_for_result(refund) == djangos
        assert f'<a href="{escape(djangos)}">' in html
    assert ("_changelist_filters=method__exact" in html) == bool(query)


def test_the_state_filters_links_are_the_ones_django_makes(signed_in):
    """The state filter makes one query string and puts each state's code in: the same
    links as Django's, whatever else the list's address holds."""
    refunds_in_bulk(1)
    query = {
        "method__exact": "check",
        "closure__account__service_state__exact": "TX",
        "q": f"a=b&{STATE_CODE} closure__account__service_state__exact={STATE_CODE}",
        "o": "-4",
    }
    page = signed_in(REFUND_OPERATIONS).get(reverse("admin:refunds_refund_changelist"), query)
    cl = page.context["cl"]
    spec = next(spec for spec in cl.filter_specs if isinstance(spec, StateListFilter))
    choices = list(spec.choices(cl))[1:]
    assert [choice["query_string"] for choice in choices] == [
        cl.get_query_string({spec.lookup_kwarg: code}, [spec.lookup_kwarg_isnull])
        for code in STATE_NAMES
    ]
    assert [choice["display"] for choice in choices if choice["selected"]] == ["Texas"]


@pytest.mark.parametrize("prefix", ["/", "/back office/"])
@pytest.mark.parametrize(
    "url_name", ["admin:refunds_closure_change", "admin:accounts_directbillstatement_change"]
)
def test_a_link_to_a_record_is_the_url_django_reverses(url_name, prefix):
    """A column's link to another record is reversed once per page name, the id put in."""
    old_prefix = get_script_prefix()
    set_script_prefix(prefix)
    try:
        for pk in (7, 123456789):
            assert change_url(url_name, pk) == reverse(url_name, args=[pk])
    finally:
        set_script_prefix(old_prefix)
