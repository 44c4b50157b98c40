"""Concurrency on PostgreSQL: a confirmed address makes one new check, whatever the
clicks (rule B3: the link is one-time)."""

import pytest
from django.core import mail

from refunds.models import Refund
from refunds.services.claims import (
    address_change_request_approve,
    address_change_request_confirm,
    address_change_request_email_link,
)
from tests.factories import UserFactory
from tests.factories.refunds import AddressChangeRequestFactory
from tests.helpers import link_in, postgres_only, run_at_once

pytestmark = postgres_only


@pytest.mark.django_db(transaction=True)
def test_ten_clicks_and_an_approval_at_once_make_one_check():
    change = AddressChangeRequestFactory()
    address_change_request_email_link(change_id=change.pk)
    token = link_in(mail.outbox[-1]).rstrip("/").rsplit("/", 1)[1]
    clerk = UserFactory(staff=True)

    def act(i):
        if i == 0:
            return address_change_request_approve(change=change, actor=clerk, reason="Called")
        return address_change_request_confirm(token=token)

    results, errors = run_at_once(11, act)

    assert errors == [] or {type(e).__name__ for e in errors} == {"AddressChangeRefused"}
    new_check = Refund.objects.get(replaces=change.refund)
    assert {r.new_refund_id for r in results if r is not None} == {new_check.pk}
    change.refresh_from_db()
    assert change.status in ("confirmed", "approved")
    assert Refund.objects.filter(closure=change.closure).count() == 2
