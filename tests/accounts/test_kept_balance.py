"""The AdvanceConnect balance kept on the row: moved with every ledger write, proved
against the ledger by `verify_balances`, and read by the holder's pages instead of a sum
over the whole history (SPEC D1, E3)."""

import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import AdvanceConnect, LedgerEntry, PurchaseMethod
from accounts.selectors import advance_connect_balance_mismatches, advance_connect_summary
from accounts.services import (
    call_charge_post,
    deposit_record,
    ledger_charges_settle,
    ledger_entries_post,
)
from portal.actors import SYSTEM
from refunds.services import closure_confirm
from tests.factories import PASSWORD, AdvanceConnectFactory

pytestmark = pytest.mark.django_db

K = LedgerEntry.Kind
NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)


def kept(advance_connect):
    advance_connect.refresh_from_db()
    return (
        advance_connect.balance_cents,
        advance_connect.unsettled_cents,
        advance_connect.unsettled_count,
    )


def entry(advance_connect, kind, cents, *, settled=False, at=NOW):
    return LedgerEntry(
        advance_connect=advance_connect,
        kind=kind,
        amount_cents=cents,
        occurred_at=at,
        method=PurchaseMethod.MAIL if kind == K.DEPOSIT else "",
        number_called="+15125550100" if kind == K.CALL_CHARGE else "",
        settled_at=at if settled else None,
    )


def test_deposits_charges_and_the_closure_move_the_kept_balance_with_the_ledger():
    ac = AdvanceConnectFactory()
    deposit_record(advance_connect=ac, amount_cents=5000, method=PurchaseMethod.MAIL, at=NOW)
    call_charge_post(advance_connect=ac, number_called="5125550100", amount_cents=315, at=NOW)
    call_charge_post(advance_connect=ac, number_called="5125550100", amount_cents=85, at=NOW)
    assert kept(ac) == (5000, 400, 2)

    # rule E3: the closure deducts the unsettled charges, then refunds the rest.
    closure = closure_confirm(account=ac.account, actor=SYSTEM, at=NOW)

    assert closure.refunds.get().amount_cents == 4600
    assert kept(ac) == (0, 0, 0)
    assert advance_connect_balance_mismatches() == []


def test_a_shortfall_at_closure_is_kept_as_the_ledger_has_it():
    ac = AdvanceConnectFactory()
    deposit_record(advance_connect=ac, amount_cents=100, method=PurchaseMethod.MAIL, at=NOW)
    call_charge_post(advance_connect=ac, number_called="5125550100", amount_cents=350, at=NOW)

    closure_confirm(account=ac.account, actor=SYSTEM, at=NOW)

    # rule E3: $1 less $3.50 deducted; the $2.50 shortfall is written off, never charged.
    assert ac.entries.get(kind=K.SHORTFALL).amount_cents == 250
    assert kept(ac) == (0, 0, 0)
    assert advance_connect_balance_mismatches() == []


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["deposit", "charge", "settled_charge", "refund", "shortfall", "settle"]),
        st.integers(min_value=1, max_value=500_000),
        st.integers(min_value=0, max_value=1),  # which of the two accounts
        st.integers(min_value=1, max_value=3),  # rows written together
    ),
    max_size=25,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations=OPERATIONS)
def test_any_sequence_of_ledger_writes_keeps_every_balance_equal_to_its_ledger(operations):
    accounts = [AdvanceConnectFactory(), AdvanceConnectFactory()]
    expected = {ac.pk: [0, 0, 0] for ac in accounts}  # the same sums, by hand
    for operation, cents, which, rows in operations:
        ac = accounts[which]
        model = expected[ac.pk]
        if operation == "settle":
            ledger_charges_settle(advance_connect=ac, at=NOW)
            model[:] = [model[0] - model[1], 0, 0]
            continue
        kind = {"deposit": K.DEPOSIT, "refund": K.REFUND, "shortfall": K.SHORTFALL}.get(
            operation, K.CALL_CHARGE
        )
        ledger_entries_post(
            entries=[
                entry(ac, kind, cents, settled=operation == "settled_charge") for _ in range(rows)
            ]
        )
        if operation == "charge":
            model[1] += rows * cents
            model[2] += rows
        else:
            model[0] += rows * cents * (1 if kind in LedgerEntry.CREDITS else -1)

    assert {ac.pk: list(kept(ac)) for ac in accounts} == expected
    assert advance_connect_balance_mismatches() == []


def test_one_write_for_several_accounts_moves_each_by_its_own_rows():
    first, second = AdvanceConnectFactory(), AdvanceConnectFactory()
    ledger_entries_post(
        entries=[
            entry(first, K.DEPOSIT, 1000),
            entry(second, K.DEPOSIT, 700),
            entry(first, K.CALL_CHARGE, 30),
            entry(second, K.CALL_CHARGE, 20, settled=True),
        ]
    )
    assert kept(first) == (1000, 30, 1)
    assert kept(second) == (680, 0, 0)


def test_verify_balances_passes_when_every_balance_agrees(capsys):
    ac = AdvanceConnectFactory()
    deposit_record(advance_connect=ac, amount_cents=4250, method=PurchaseMethod.MAIL, at=NOW)

    call_command("verify_balances")

    assert "Every AdvanceConnect balance agrees with its ledger." in capsys.readouterr().out


def test_verify_balances_names_the_account_that_disagrees_and_exits_1():
    good, bad = AdvanceConnectFactory(), AdvanceConnectFactory()
    for ac in (good, bad):
        deposit_record(advance_connect=ac, amount_cents=4250, method=PurchaseMethod.MAIL, at=NOW)
    call_charge_post(advance_connect=bad, number_called="5125550100", amount_cents=315, at=NOW)
    AdvanceConnect.objects.filter(pk=bad.pk).update(balance_cents=F("balance_cents") + 1)

    with pytest.raises(CommandError) as raised:
        call_command("verify_balances")

    assert raised.value.returncode == 1
    message = str(raised.value)
    assert message.startswith("1 AdvanceConnect balance(s) disagree with the ledger")
    assert (
        f"account {bad.account.number}: kept balance $42.51, unsettled $3.15 (1 calls); "
        "ledger balance $42.50, unsettled $3.15 (1 calls)"
    ) in message
    assert good.account.number not in message


# --- the holder's pages cost the same at any size of history ---


def prepaid_with_history(rows):
    """`rows` rows of settled history (a $3 deposit, then two $1 calls, over and over)
    and the same two unsettled calls at every size."""
    now = timezone.now()
    ac = AdvanceConnectFactory()
    history = [
        entry(ac, K.DEPOSIT, 300, at=now - dt.timedelta(hours=n + 2))
        if n % 3 == 0
        else entry(ac, K.CALL_CHARGE, 100, settled=True, at=now - dt.timedelta(hours=n + 2))
        for n in range(rows)
    ]
    unsettled = [entry(ac, K.CALL_CHARGE, 25, at=now - dt.timedelta(minutes=n)) for n in (1, 2)]
    ledger_entries_post(entries=history + unsettled)
    return ac


def ledger_reads_that_grow_with_history(queries):
    """The reads of the ledger bounded neither by a LIMIT nor, in their WHERE clause, to
    the unsettled charges (PostgreSQL writes an aggregate's filter as `FILTER (WHERE`)."""
    return [
        query["sql"]
        for query in queries
        if "accounts_ledgerentry" in query["sql"]
        and query["sql"].lstrip().upper().startswith("SELECT")
        and " LIMIT " not in query["sql"]
        and '"settled_at" IS NULL' not in query["sql"].partition(" WHERE ")[2]
    ]


def ledger_sums(queries):
    return [q["sql"] for q in queries if "accounts_ledgerentry" in q["sql"] and "SUM(" in q["sql"]]


def page_queries(client, ac, path):
    client.force_login(ac.account.holder)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return response, captured.captured_queries


def test_my_account_reads_the_same_queries_and_no_ledger_sum_at_10_and_2000_rows(client):
    small, large = prepaid_with_history(10), prepaid_with_history(2000)
    assert large.entries.count() == 2002

    shown = {}
    counts = {}
    for ac in (small, large):
        response, queries = page_queries(client, ac, reverse("accounts:my_account"))
        assert ledger_sums(queries) == []
        assert ledger_reads_that_grow_with_history(queries) == []
        counts[ac.pk] = len(queries)
        shown[ac.pk] = response.context["overview"].advance_connect

    assert counts[small.pk] == counts[large.pk]
    # 4 deposits of $3 less 6 calls of $1; 667 deposits less 1,333 calls; $0.50 unsettled.
    assert (shown[small.pk].balance_cents, shown[small.pk].available_cents) == (600, 550)
    assert (shown[large.pk].balance_cents, shown[large.pk].available_cents) == (66800, 66750)
    assert advance_connect_balance_mismatches() == []


def reauthenticate(client):
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})


@pytest.mark.parametrize("step", ["review", "address", "confirm"])
def test_delete_account_steps_read_the_same_queries_at_10_and_2000_rows(client, step):
    counts = []
    for rows in (10, 2000):
        ac = prepaid_with_history(rows)
        client.force_login(ac.account.holder)
        if step != "review":
            client.post(reverse("delete_account:review"))
        if step == "confirm":
            client.post(reverse("delete_account:address"), {"action": "confirm"})
            reauthenticate(client)
        response, queries = page_queries(client, ac, reverse(f"delete_account:{step}"))
        # rule D1: only the two unsettled calls are summed (E3), never the history.
        assert ledger_reads_that_grow_with_history(queries) == []
        counts.append(len(queries))
        client.logout()
    assert counts[0] == counts[1]


def test_the_summary_reads_the_row_afresh_not_a_stale_instance():
    ac = AdvanceConnectFactory()
    stale = AdvanceConnect.objects.get(pk=ac.pk)
    deposit_record(advance_connect=ac, amount_cents=1200, method=PurchaseMethod.MAIL, at=NOW)
    assert advance_connect_summary(stale).balance_cents == 1200
