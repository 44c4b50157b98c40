"""Rule N2: a deposit, a call charge, a sign-in or an address change restart the 180 days;
nothing else moves the last activity."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import CustomerAccount, PurchaseMethod
from accounts.services import (
    Activity,
    account_record_activity,
    address_change,
    call_charge_post,
    deposit_record,
)
from tests.factories import PASSWORD, AdvanceConnectFactory, CustomerAccountFactory, UserFactory

pytestmark = pytest.mark.django_db

LONG_AGO = timezone.now() - dt.timedelta(days=170)


@pytest.fixture
def account():
    return AdvanceConnectFactory(account__last_activity_at=LONG_AGO).account


def last_activity(account):
    return CustomerAccount.objects.values_list("last_activity_at", "last_activity_kind").get(
        pk=account.pk
    )


def test_a_deposit_is_activity(account):
    at = timezone.now()
    deposit_record(
        advance_connect=account.advance_connect,
        amount_cents=2500,
        method=PurchaseMethod.MONEYGRAM,
        at=at,
    )
    assert last_activity(account) == (at, Activity.DEPOSIT)


def test_a_call_charge_is_activity(account):
    at = timezone.now()
    call_charge_post(
        advance_connect=account.advance_connect, number_called="5125550100", amount_cents=315, at=at
    )
    assert last_activity(account) == (at, Activity.CALL_CHARGE)


def test_an_address_change_is_activity(account):
    at = timezone.now()
    address_change(
        account=account,
        actor=account.holder,
        at=at,
        line1="1 MAIN ST",
        city="AUSTIN",
        state="TX",
        zip_code="78701",
    )
    assert last_activity(account) == (at, Activity.ADDRESS_CHANGE)


def test_an_address_change_from_my_settings_is_activity(client, account):
    client.force_login(account.holder)
    before = timezone.now()
    client.post(
        reverse("accounts:settings_address"),
        {"line1": "1 MAIN ST", "line2": "", "city": "AUSTIN", "state": "TX", "zip_code": "78701"},
    )
    at, kind = last_activity(account)
    assert at >= before
    assert kind == Activity.ADDRESS_CHANGE


def test_signing_in_is_activity(client, account):
    before = timezone.now()
    response = client.post(
        reverse("account_login"), {"login": account.holder.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    at, kind = last_activity(account)
    assert before <= at <= timezone.now()
    assert kind == Activity.SIGN_IN


def test_a_failed_sign_in_is_not_activity(client, account):
    client.post(reverse("account_login"), {"login": account.holder.email, "password": "wrong"})
    assert last_activity(account)[0] == LONG_AGO


def test_signing_in_without_an_account_records_nothing(client):
    user = UserFactory()
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert not CustomerAccount.objects.exists()


def test_viewing_pages_is_not_activity(client, account):
    client.force_login(account.holder)
    for name in [
        "accounts:my_account",
        "accounts:settings_profile",
        "accounts:settings_address",
        "accounts:settings_security",
    ]:
        assert client.get(reverse(name)).status_code == 200
    assert last_activity(account) == (LONG_AGO, "")


def test_editing_the_profile_is_not_activity(client, account):
    client.force_login(account.holder)
    response = client.post(
        reverse("accounts:settings_profile"),
        {"first_name": "Mara", "last_name": "Lopez", "language": "en"},
    )
    assert response.status_code == 302
    account.holder.refresh_from_db()
    assert account.holder.first_name == "Mara"
    assert last_activity(account) == (LONG_AGO, "")


def test_adding_and_removing_a_phone_number_is_not_activity(client, account):
    client.force_login(account.holder)
    client.post(reverse("accounts:phone_add"), {"number": "512-555-0199", "label": ""})
    added = account.phone_numbers.get(number="5125550199")
    client.post(reverse("accounts:phone_remove", args=[added.pk]))
    assert not account.phone_numbers.filter(number="5125550199").exists()
    assert last_activity(account) == (LONG_AGO, "")


def test_activity_never_moves_backwards():
    account = CustomerAccountFactory(last_activity_at=LONG_AGO)
    account_record_activity(account=account, kind=Activity.DEPOSIT, at=LONG_AGO - dt.timedelta(1))
    assert last_activity(account) == (LONG_AGO, "")
