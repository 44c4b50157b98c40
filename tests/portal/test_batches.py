"""`portal.db.for_each_batch_locked`, the bulk sweeps' claim (rule N6): each row is
claimed once per run, a batch at a time, even the rows a batch leaves as they are."""

import pytest

from accounts.models import CustomerAccount
from portal.db import for_each_batch_locked
from tests.factories import CustomerAccountFactory

pytestmark = pytest.mark.django_db


def test_batches_go_up_the_ids_and_never_claim_a_row_twice():
    ids = [CustomerAccountFactory().pk for _ in range(7)]
    batches = []

    # A batch that acts on none of its rows (nothing due): the next batch moves on.
    done = for_each_batch_locked(
        CustomerAccount.objects.all(),
        lambda rows: batches.append([row.pk for row in rows]) or [],
        size=3,
    )

    assert done == []
    assert batches == [ids[0:3], ids[3:6], ids[6:7]]


def test_what_the_batches_return_comes_back_in_order_and_conditions_are_kept():
    accounts = [CustomerAccountFactory(new_mexico=n % 2 == 0) for n in range(6)]

    done = for_each_batch_locked(
        CustomerAccount.objects.filter(service_state="NM"),
        lambda rows: [row.number for row in rows],
        size=2,
    )

    assert done == [account.number for account in accounts[::2]]
