"""`seed_demo` gives each demo holder the account of their scenario, once."""

import datetime as dt
import io

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps
from django.core.management import call_command
from django.utils import timezone

from accounts.demo import DEMO_HOLDERS
from accounts.models import (
    CustomerAccount,
    DirectBillStatement,
    PurchaseMethod,
    TopUpEnrolment,
    User,
)
from accounts.selectors import (
    account_for_holder,
    addresses_on_record,
    my_account_overview,
)
from refunds.demo import CLOSED_HOLDERS

pytestmark = pytest.mark.django_db


def seed(*args):
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def row_counts():
    models = [*apps.get_app_config("accounts").get_models(), EmailAddress]
    return {model.__name__: model.objects.count() for model in models}


def overview(email):
    account = CustomerAccount.objects.get(holder__email=email)
    return my_account_overview(account_for_holder(account.holder), now=timezone.now())


def test_seeding_twice_creates_nothing_new():
    first = seed()
    counts = row_counts()
    assert counts["CustomerAccount"] == len(DEMO_HOLDERS) + len(CLOSED_HOLDERS)
    second = seed()
    assert row_counts() == counts
    assert first == second
    assert "Holders: card@demo.test, check@demo.test" in first
    assert "Password for every demo user: demo-portal-2026" in first


def test_card_holder():
    seed()
    card = overview("card@demo.test")
    prepaid = card.advance_connect
    assert card.account.service_state == "TX"
    assert prepaid.balance_cents == 4250
    assert (prepaid.unsettled_cents, prepaid.unsettled_count) == (420, 2)
    assert sorted(e.amount_cents for e in card.unsettled) == [105, 315]
    day_ago = timezone.now() - dt.timedelta(hours=24)
    assert all(e.occurred_at > day_ago for e in card.unsettled)
    last = prepaid.last_deposit
    assert (last.method, last.card_brand, last.card_last4) == (
        PurchaseMethod.ONLINE_CARD,
        "Visa",
        "4242",
    )
    assert card.top_ups == {TopUpEnrolment.Kind.TEXTPAY, TopUpEnrolment.Kind.AUTOPAY}


def test_check_holder():
    seed()
    check = overview("check@demo.test")
    deposits = check.deposits
    assert deposits[0].method == PurchaseMethod.MONEYGRAM
    assert {d.method for d in deposits[1:]} == {PurchaseMethod.ONLINE_CARD}
    assert check.advance_connect.balance_cents == 5130
    current, _ = addresses_on_record(check.account)
    assert current.line2 == "APT 4B"


def test_direct_bill_holder():
    seed()
    bill = overview("directbill@demo.test")
    assert bill.advance_connect is None
    assert (bill.direct_bill.unbilled_cents, bill.direct_bill.unbilled_count) == (1155, 3)
    assert bill.direct_bill.outstanding_cents == 1155
    statement = bill.direct_bill.last_statement
    assert statement.status == DirectBillStatement.Status.PAID
    assert sum(p.amount_cents for p in statement.payments.all()) == statement.amount_cents == 2940
    assert statement.statement_date > (timezone.now() - dt.timedelta(days=62)).date()


def test_video_holder():
    seed()
    video = overview("video@demo.test")
    assert video.advance_connect.last_method == PurchaseMethod.MAIL
    assert video.advance_connect.balance_cents == 1950
    assert len(video.video.upcoming_sessions) == 2
    assert [s.plan for s in video.video.subscriptions] == ["VideoConnect Monthly"]
    assert video.stamps == 12
    assert [d.balance_cents for d in video.debit_accounts] == [2500]


def test_new_mexico_holder_is_175_days_without_activity():
    seed()
    nm = overview("nm@demo.test")
    assert nm.account.service_state == "NM"
    assert nm.advance_connect.balance_cents == 1760
    days = (timezone.now() - nm.account.last_activity_at) / dt.timedelta(days=1)
    assert 175 <= days < 175.01
    seed()
    assert CustomerAccount.objects.get(pk=nm.account.pk).last_activity_at == (
        nm.account.last_activity_at
    )


def test_every_demo_holder_has_an_address_and_a_phone_number():
    seed()
    for email, _, _ in DEMO_HOLDERS:
        account = CustomerAccount.objects.get(holder__email=email)
        assert addresses_on_record(account)[0] is not None, email
        assert account.phone_numbers.exists(), email


def test_extra_random_holders_are_made_once_each():
    out = seed("--holders", "30")
    assert "Extra holders: 30" in out
    counts = row_counts()
    assert counts["CustomerAccount"] == len(DEMO_HOLDERS) + len(CLOSED_HOLDERS) + 30
    seed("--holders", "30")
    assert row_counts() == counts
    seed("--holders", "32")
    assert CustomerAccount.objects.count() == len(DEMO_HOLDERS) + len(CLOSED_HOLDERS) + 32

    for account in CustomerAccount.objects.filter(holder__email__startswith="holder"):
        extra = my_account_overview(account_for_holder(account.holder), now=timezone.now())
        assert extra.advance_connect.balance_cents >= 0
        assert extra.advance_connect.last_deposit is not None
        assert account.addresses.count() == account.phone_numbers.count() == 1
        assert account.last_activity_at == max(
            e.occurred_at for e in account.advance_connect.entries.all()
        )


def test_demo_staff_are_in_their_roles():
    call_command("seed_demo", stdout=io.StringIO())
    roles = {
        user.email: sorted(user.groups.values_list("name", flat=True))
        for user in User.objects.filter(is_staff=True)
    }
    assert roles["support@demo.test"] == ["Support"]
    assert roles["refunds@demo.test"] == ["Refund operations"]
    assert roles["auditor@demo.test"] == ["Auditor"]
