"""Phone numbers through django-phonenumber-field: stored as E.164, shown in US national
format through one filter, typed however people type them (issue 12)."""

import pytest
from django.db.models import CharField
from django.db.models.functions import Cast
from django.template import Context, Template

from accounts.models import PhoneNumber, phone_national
from tests.factories import CustomerAccountFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "stored, shown",
    [
        ("+15055550105", "(505) 555-0105"),
        ("5055550105", "(505) 555-0105"),
        ("12345", "12345"),  # not a number: shown as stored
        ("", ""),
        (None, ""),
    ],
)
def test_a_stored_number_is_shown_in_national_format(stored, shown):
    assert phone_national(stored) == shown
    assert Template("{% load accounts_tags %}{{ n|phone }}").render(Context({"n": stored})) == shown


def test_the_model_stores_e164_and_shows_national():
    account = CustomerAccountFactory(phone="(505) 555 0105")
    phone = account.phone_numbers.get()
    assert _stored(PhoneNumber, phone.pk, "number") == "+15055550105"
    assert str(phone) == "(505) 555-0105"
    assert account.phone_numbers.filter(number="505-555-0105").exists()


def _stored(model, pk, field):
    """The text in the column, not parsed into a phone number."""
    return model.objects.filter(pk=pk).values_list(Cast(field, CharField()), flat=True).get()
