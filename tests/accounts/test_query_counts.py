"""My Account and every My Settings page answer in a fixed number of queries, whether the
account has 10 rows of history or 1,000."""

import datetime as dt

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import (
    DirectBillCharge,
    LedgerEntry,
    MailingAddress,
    PhoneNumber,
    PurchaseMethod,
    StampEntry,
    VideoSession,
)
from accounts.selectors import recent_prepaid_calls
from tests.factories import (
    AdvanceConnectFactory,
    DirectBillFactory,
    DirectBillStatementFactory,
    EMessagingFactory,
    SecurusDebitFactory,
    TopUpEnrolmentFactory,
    VideoSubscriptionFactory,
)
from tests.helpers import execute_as_owner

pytestmark = pytest.mark.django_db

# page → most queries allowed (measured: 18, 4, 4, 3, sign-in session and user included)
MAX_QUERIES = {
    "accounts:my_account": 20,
    "accounts:settings_profile": 6,
    "accounts:settings_address": 6,
    "accounts:settings_security": 5,
}


def ledger_history(prepaid, rows, now):
    """`rows` ledger rows: a deposit by card every third, calls, some of them settled."""
    LedgerEntry.objects.bulk_create(
        LedgerEntry(
            advance_connect=prepaid,
            kind=LedgerEntry.Kind.DEPOSIT if n % 3 == 0 else LedgerEntry.Kind.CALL_CHARGE,
            method=PurchaseMethod.ONLINE_CARD if n % 3 == 0 else "",
            amount_cents=100 + n,
            occurred_at=now - dt.timedelta(hours=n),
            settled_at=now if n % 3 == 1 else None,
        )
        for n in range(rows)
    )


def account_with_history(rows):
    """An account with every service and `rows` rows of each kind of history."""
    now = timezone.now()
    prepaid = AdvanceConnectFactory()
    account = prepaid.account
    ledger_history(prepaid, rows, now)
    direct_bill = DirectBillFactory(account=account)
    statement = DirectBillStatementFactory(direct_bill=direct_bill)
    DirectBillCharge.objects.bulk_create(
        DirectBillCharge(
            direct_bill=direct_bill,
            occurred_at=now - dt.timedelta(hours=n),
            amount_cents=100 + n,
            statement=statement if n % 2 else None,
        )
        for n in range(rows)
    )
    emessaging = EMessagingFactory(account=account)
    StampEntry.objects.bulk_create(
        StampEntry(emessaging=emessaging, kind=StampEntry.Kind.PURCHASE, stamps=1, occurred_at=now)
        for _ in range(rows)
    )
    VideoSession.objects.bulk_create(
        VideoSession(
            account=account,
            starts_at=now + dt.timedelta(days=1 + n),
            facility="Travis County",
            incarcerated_name="Luis Reyes",
        )
        for n in range(rows)
    )
    MailingAddress.objects.bulk_create(
        MailingAddress(
            account=account,
            line1=f"{n} OLD RD",
            city="AUSTIN",
            state="TX",
            zip_code="78701",
            created_at=now - dt.timedelta(days=1000 + n),
            replaced_at=now - dt.timedelta(days=999 + n),
        )
        for n in range(rows)
    )
    PhoneNumber.objects.bulk_create(
        PhoneNumber(account=account, number=f"512556{n:04d}") for n in range(rows)
    )
    for _ in range(3):
        SecurusDebitFactory(account=account)
        VideoSubscriptionFactory(account=account)
    TopUpEnrolmentFactory(account=account)
    return account


@pytest.mark.parametrize("rows", [10, 1000])
@pytest.mark.parametrize("name", MAX_QUERIES)
def test_pages_run_in_a_bounded_number_of_queries(
    client, django_assert_max_num_queries, name, rows
):
    account = account_with_history(rows)
    assert account.advance_connect.entries.count() == rows
    client.force_login(account.holder)
    with django_assert_max_num_queries(MAX_QUERIES[name]):
        response = client.get(reverse(name))
    assert response.status_code == 200


def test_my_account_shows_the_newest_calls_first():
    """The calls panel lists the latest ten calls, newest first, not the oldest."""
    account = account_with_history(30)
    calls = list(recent_prepaid_calls(account.advance_connect, limit=10))
    every_call = account.advance_connect.entries.filter(kind=LedgerEntry.Kind.CALL_CHARGE)
    assert [c.pk for c in calls] == [c.pk for c in every_call.order_by("-occurred_at", "-id")[:10]]


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="query plans are PostgreSQL's")
def test_my_account_reads_the_newest_calls_off_an_index_on_postgresql():
    """Issue 13: at 100,000 ledger rows My Account must cost what it costs at 10. The
    newest calls come off one of the account's ordered ledger indexes, stopping after ten,
    with no sort of the account's whole history (which a join on the account made
    PostgreSQL do)."""
    account = account_with_history(300)
    with connection.cursor() as cursor:
        execute_as_owner(cursor, "ANALYZE accounts_ledgerentry")
    plan = recent_prepaid_calls(account.advance_connect, limit=10).explain()
    ordered = ("accounts_ledger_kind_latest", "accounts_ledger_recent")
    assert any(index in plan for index in ordered) and "Sort" not in plan, plan


@pytest.mark.parametrize("rows", [10, 1000])
def test_my_account_reads_only_the_lists_the_account_has(client, django_assert_num_queries, rows):
    """Issue 13: for an account with AdvanceConnect alone, My Account reads the session,
    the user, the account (with which lists it has), then its deposits, pending calls and
    recent calls, whatever the length of its history. The ledger rows are read with the
    columns the page shows, never a deposit's payment processor reference."""
    account = AdvanceConnectFactory().account
    prepaid = account.advance_connect
    now = timezone.now()
    ledger_history(prepaid, rows, now)
    client.force_login(account.holder)
    client.get(reverse("accounts:my_account"))  # the sign-in's first request starts its clocks
    with django_assert_num_queries(6) as captured:
        response = client.get(reverse("accounts:my_account"))
    assert response.status_code == 200
    assert 'id="recent-calls"' in response.content.decode()
    assert 'id="recent-deposits"' in response.content.decode()
    assert not [query for query in captured.captured_queries if "processor_token" in query["sql"]]
