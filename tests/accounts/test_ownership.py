"""A holder sees and changes only their own account (rule S5.own): every holder URL that takes
an id answers 404 for another holder's object, and changes nothing."""

import pytest
from django.urls import reverse

from accounts import urls as account_urls
from accounts.models import PhoneNumber
from tests.factories import CustomerAccountFactory, PhoneNumberFactory, UserFactory

pytestmark = pytest.mark.django_db

# url name → (method, the object of another holder it takes, how to tell it is untouched)
URLS_TAKING_AN_ID = {
    "phone_remove": (
        "post",
        lambda: PhoneNumberFactory(account=CustomerAccountFactory()),
        lambda phone: PhoneNumber.objects.filter(pk=phone.pk).exists(),
    ),
}


def test_every_url_taking_an_id_is_checked_here():
    with_id = {p.name for p in account_urls.urlpatterns if p.pattern.converters}
    assert with_id == set(URLS_TAKING_AN_ID)


@pytest.mark.parametrize("name", URLS_TAKING_AN_ID)
@pytest.mark.parametrize(
    "intruder",
    [lambda: CustomerAccountFactory().holder, lambda: UserFactory()],
    ids=["another holder", "a user without an account"],
)
def test_another_holders_object_is_not_found(client, name, intruder):
    method, make_theirs, untouched = URLS_TAKING_AN_ID[name]
    theirs = make_theirs()
    client.force_login(intruder())
    response = getattr(client, method)(reverse(f"accounts:{name}", args=[theirs.pk]))
    assert response.status_code == 404
    assert untouched(theirs)


@pytest.mark.parametrize("name", URLS_TAKING_AN_ID)
def test_a_missing_object_is_not_found(client, name):
    client.force_login(CustomerAccountFactory().holder)
    method = URLS_TAKING_AN_ID[name][0]
    assert getattr(client, method)(reverse(f"accounts:{name}", args=[987654])).status_code == 404


def test_a_holder_removes_their_own_number_but_keeps_the_last(client):
    account = CustomerAccountFactory()
    extra = PhoneNumberFactory(account=account)
    client.force_login(account.holder)
    assert client.post(reverse("accounts:phone_remove", args=[extra.pk])).status_code == 302
    last = account.phone_numbers.get()
    response = client.post(reverse("accounts:phone_remove", args=[last.pk]), follow=True)
    assert "at least one phone number" in response.content.decode()
    assert account.phone_numbers.get() == last


def test_the_pages_show_only_the_holders_own_account(client):
    mine = CustomerAccountFactory(address={"line1": "1 MINE ST"}, phone="5125550111")
    CustomerAccountFactory(address={"line1": "9 THEIRS ST"}, phone="5125550999")
    client.force_login(mine.holder)
    pages = "".join(
        client.get(reverse(name)).content.decode()
        for name in [
            "accounts:my_account",
            "accounts:settings_profile",
            "accounts:settings_address",
        ]
    )
    assert mine.number in pages and "1 MINE ST" in pages and "(512) 555-0111" in pages
    assert "9 THEIRS ST" not in pages and "(512) 555-0999" not in pages
