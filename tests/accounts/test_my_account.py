"""My Account shows each service the account has, with its money, and nothing else."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import (
    AdvanceConnectFactory,
    CustomerAccountFactory,
    DirectBillChargeFactory,
    DirectBillFactory,
    DirectBillStatementFactory,
    EMessagingFactory,
    LedgerEntryFactory,
    SecurusDebitFactory,
    StampEntryFactory,
    TopUpEnrolmentFactory,
    UserFactory,
    VideoSessionFactory,
    VideoSubscriptionFactory,
)

pytestmark = pytest.mark.django_db

URL = reverse("accounts:my_account")
NOW = timezone.now()
SECTIONS = ["AdvanceConnect", "Direct Bill", "Securus Debit", "eMessaging", "VideoConnect"]


def page(client, account):
    client.force_login(account.holder)
    response = client.get(URL)
    assert response.status_code == 200
    return response.content.decode()


def text(html, element_id):
    """The text of the element with this id, tags and extra spaces removed."""
    match = re.search(rf'<(\w+)[^>]*\bid="{element_id}"[^>]*>(.*?)</\1>', html, re.S)
    return " ".join(re.sub(r"<[^>]+>", "", match.group(2)).split())


def sections(html):
    return [name for name in SECTIONS if re.search(rf"<h2[^>]*>{name}[^<]*</h2>", html)]


def test_advance_connect_balance_pending_and_last_deposit(client):
    prepaid = AdvanceConnectFactory()
    for cents, days in [(5000, 60), (5000, 30), (2500, 2)]:
        LedgerEntryFactory(
            advance_connect=prepaid, amount_cents=cents, occurred_at=NOW - dt.timedelta(days)
        )
    LedgerEntryFactory(advance_connect=prepaid, settled_call=True, amount_cents=8250)
    LedgerEntryFactory(advance_connect=prepaid, unsettled_call=True, amount_cents=315)
    LedgerEntryFactory(advance_connect=prepaid, unsettled_call=True, amount_cents=105)
    TopUpEnrolmentFactory(account=prepaid.account, textpay=True)
    TopUpEnrolmentFactory(account=prepaid.account)

    html = page(client, prepaid.account)
    assert sections(html) == ["AdvanceConnect"]
    assert text(html, "account-number") == prepaid.account.number
    assert text(html, "advance-connect-balance") == "$42.50"
    assert text(html, "advance-connect-pending") == "$4.20"
    assert text(html, "advance-connect-available") == "$38.30"
    pending = text(html, "pending-calls")
    assert "$3.15" in pending and "$1.05" in pending and "$82.50" not in pending
    assert "$25.00 on" in text(html, "last-deposit")
    assert "Online, by credit or debit card (Visa ending in 4242)" in text(html, "last-deposit")
    assert text(html, "top-ups") == "TextPay: On AutoPay: On"


def test_no_pending_lines_when_every_call_is_settled(client):
    prepaid = AdvanceConnectFactory()
    LedgerEntryFactory(advance_connect=prepaid, by_moneygram=True, amount_cents=4000)
    LedgerEntryFactory(advance_connect=prepaid, settled_call=True, amount_cents=1000)
    TopUpEnrolmentFactory(account=prepaid.account, terminated=True)

    html = page(client, prepaid.account)
    assert text(html, "advance-connect-balance") == "$30.00"
    assert 'id="advance-connect-pending"' not in html
    assert "MoneyGram" in text(html, "last-deposit")
    assert "ending in" not in text(html, "last-deposit")
    assert text(html, "top-ups") == "TextPay: Off AutoPay: Off"


def test_direct_bill_unbilled_outstanding_and_last_statement(client):
    direct_bill = DirectBillFactory()
    statement = DirectBillStatementFactory(direct_bill=direct_bill, paid=True)
    DirectBillChargeFactory(direct_bill=direct_bill, statement=statement, amount_cents=2940)
    for cents in (315, 630, 210):
        DirectBillChargeFactory(direct_bill=direct_bill, amount_cents=cents)

    html = page(client, direct_bill.account)
    assert sections(html) == ["Direct Bill"]
    assert text(html, "direct-bill-unbilled") == "$11.55"
    assert "3 calls" in html
    assert text(html, "direct-bill-outstanding") == "$11.55"
    assert "$29.40" in text(html, "last-statement") and "Paid" in text(html, "last-statement")
    calls = text(html, "recent-calls")
    assert calls.count("not yet billed") == 3 and calls.count("billed") == 4


def test_debit_stamps_and_video_in_the_accounts_time_zone(client):
    account = CustomerAccountFactory(time_zone="America/Chicago")
    SecurusDebitFactory(account=account, balance_cents=2500, incarcerated_name="Luis Reyes")
    emessaging = EMessagingFactory(account=account, stamps=15)
    StampEntryFactory(emessaging=emessaging, used=True, stamps=3)
    VideoSubscriptionFactory(account=account, plan="VideoConnect Monthly")
    VideoSubscriptionFactory(account=account, plan="Old plan", cancelled=True)
    VideoSessionFactory(
        account=account, starts_at=dt.datetime(2030, 1, 15, 21, tzinfo=dt.timezone.utc)
    )
    VideoSessionFactory(account=account, past=True)

    html = page(client, account)
    assert sections(html) == ["Securus Debit", "eMessaging", "VideoConnect"]
    assert "$25.00" in html
    assert "This money belongs to Luis Reyes and stays with them." in html
    assert text(html, "stamps") == "12 stamps left"
    assert "VideoConnect Monthly, $9.99 a month" in html and "Old plan" not in html
    sessions = text(html, "video-sessions")
    assert "Jan. 15, 2030, 3 p.m. CST" in sessions  # 21:00 UTC in Chicago
    assert sessions.count("With Luis Reyes") == 1  # the past session is not listed


def test_video_connect_is_not_shown_without_a_subscription_or_a_future_session(client):
    account = CustomerAccountFactory()
    VideoSubscriptionFactory(account=account, cancelled=True)
    VideoSessionFactory(account=account, past=True)
    assert sections(page(client, account)) == []


def test_recent_calls_and_deposits_are_the_last_ten(client):
    prepaid = AdvanceConnectFactory()
    for day in range(1, 16):
        LedgerEntryFactory(
            advance_connect=prepaid,
            amount_cents=1000 + day,
            occurred_at=NOW - dt.timedelta(days=day, hours=1),
        )
        LedgerEntryFactory(
            advance_connect=prepaid,
            settled_call=True,
            amount_cents=100 + day,
            occurred_at=NOW - dt.timedelta(days=day),
        )
    html = page(client, prepaid.account)
    calls = re.findall(r"\$1\.\d\d", text(html, "recent-calls"))
    deposits = re.findall(r"\$10\.\d\d", text(html, "recent-deposits"))
    assert calls == [f"$1.{day:02d}" for day in range(1, 11)]
    assert deposits == [f"$10.{day:02d}" for day in range(1, 11)]


def test_a_user_without_an_account_sees_a_plain_message(client):
    for user in (UserFactory(), UserFactory(staff=True)):
        client.force_login(user)
        html = client.get(URL).content.decode()
        assert "There is no customer account linked to this sign-in." in html
        assert sections(html) == []


def test_each_holder_is_told_of_their_own_lists_when_read_one_after_another(client):
    """The list flags are one shared expression; each read answers for its own account."""
    with_debit = CustomerAccountFactory()
    SecurusDebitFactory(account=with_debit, incarcerated_name="Ana Ruiz")
    without = CustomerAccountFactory()
    assert sections(page(client, with_debit)) == ["Securus Debit"]
    assert sections(page(client, without)) == []
    assert sections(page(client, with_debit)) == ["Securus Debit"]
