"""`seed_demo` tells the whole story: closed accounts with refunds in every status of
SPEC §3, final statements in every status of §4, held funds (N4), a returned check to
look up (B2) and readdress (B3), New Mexico notices already sent (N3); it is built
once, and refused under production settings."""

import base64
import io
from pathlib import Path

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.apps import apps
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.demo import DEMO_TOTP_SECRET
from accounts.models import DirectBillStatement, User
from portal.business_calendar import business_date
from portal.models import AuditEvent
from refunds.demo import (
    RETURNED_CHECK_LAST_NAME,
    RETURNED_CHECK_REFERENCE,
    RETURNED_CHECK_ZIP,
)
from refunds.models import Closure, HeldFunds, InactivityNotice, Refund
from refunds.selectors import refund_is_overdue
from tests.helpers import manage_in_production

pytestmark = pytest.mark.django_db

S = Refund.Status
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def seed(django_capture_on_commit_callbacks):
    """Run seed_demo as `make run` does, its after-commit work (emails, card refund
    submissions) included; return what it printed."""

    def _seed():
        out = io.StringIO()
        with django_capture_on_commit_callbacks(execute=True):
            call_command("seed_demo", stdout=out)
        return out.getvalue()

    return _seed


def refund_of(email, **filters):
    return Refund.objects.get(closure__account__holder__email=email, **filters)


def snapshot():
    """Every row count, and the state of every refund, statement and held funds."""
    models = [
        *apps.get_app_config("accounts").get_models(),
        *apps.get_app_config("refunds").get_models(),
        AuditEvent,
    ]
    return {
        "counts": {model.__name__: model.objects.count() for model in models},
        "refunds": list(
            Refund.objects.order_by("pk").values_list(
                "closure__reference", "method", "status", "amount_cents", "status_changed_at"
            )
        ),
        "statements": list(
            DirectBillStatement.objects.order_by("pk").values_list("status", "amount_cents")
        ),
        "held": list(HeldFunds.objects.values_list("status", "amount_cents")),
        "notices": list(InactivityNotice.objects.values_list("days_before", "sent_at")),
    }


def test_a_second_run_leaves_the_demo_as_it_is(seed):
    first = seed()
    before = snapshot()
    assert before["counts"]["Closure"] == 16
    assert seed() == first
    assert snapshot() == before


def test_a_refund_in_every_status_of_spec_3(seed):
    seed()
    seen = set(Refund.objects.values_list("method", "status"))
    card = Refund.Method.CARD
    check = Refund.Method.CHECK
    assert {(card, S.SUBMITTED), (card, S.SETTLED), (card, S.FAILED)} <= seen
    assert {
        (check, status)
        for status in (
            S.PENDING,
            S.ISSUED,
            S.MAILED,
            S.CASHED,
            S.RETURNED,
            S.REISSUED,
            S.VOID,
            S.STALE,
        )
    } <= seen


def test_the_stories_behind_the_statuses(seed):
    seed()
    today = business_date(timezone.now())
    # SPEC §3: the failed card refund is replaced by a check to the address on record.
    failed = refund_of("card-failed@demo.test", method=Refund.Method.CARD)
    assert (failed.status, failed.status_reason) == (S.FAILED, "Card expired")
    replacement = failed.replaced_by
    assert (replacement.method, replacement.status, replacement.amount_cents) == (
        Refund.Method.CHECK,
        S.PENDING,
        1645,
    )
    assert replacement.address_lines() == ["72 MARIETTA ST NW", "ATLANTA GA 30303"]
    # SPEC §3: the reissued check points at the returned one and is in the mail.
    returned = refund_of("check-reissued@demo.test", status=S.REISSUED)
    assert returned.replaced_by.status == S.MAILED
    assert returned.replaced_by.address_line1 == "88 RIVERSIDE DR"
    # SPEC §3: stale 180 days after issue; issued, not mailed and past due: overdue.
    stale = refund_of("check-stale@demo.test")
    assert (stale.status, (today - stale.issued_on).days) == (S.STALE, 212)
    issued = refund_of("check-issued@demo.test")
    assert refund_is_overdue(
        method=issued.method, status=issued.status, due_date=issued.due_date, today=today
    )
    # SPEC §3: every move is in the audit trail, by the Refund operations clerk.
    moves = AuditEvent.objects.filter(object_id=str(refund_of("check-cashed@demo.test").pk))
    assert list(
        moves.filter(action__startswith="refund.").values_list("action", "actor_label")
    ) == [
        ("refund.created", "system"),
        ("refund.issued", "refunds@demo.test"),
        ("refund.mailed", "refunds@demo.test"),
        ("refund.cashed", "refunds@demo.test"),
    ]


def test_final_statements_in_every_status_of_spec_4(seed):
    seed()
    T = DirectBillStatement.Status
    finals = {
        s.direct_bill.account.holder.email: (s.status, s.amount_cents - s.paid_cents)
        for s in DirectBillStatement.objects.filter(is_final=True).select_related(
            "direct_bill__account__holder"
        )
        for s.paid_cents in [sum(p.amount_cents for p in s.payments.all())]
    }
    assert finals == {
        "statement-issued@demo.test": (T.ISSUED, 3045),
        "statement-paid@demo.test": (T.PAID, 0),
        "statement-partly-paid@demo.test": (T.PARTIALLY_PAID, 2045),
        "statement-past-due@demo.test": (T.PAST_DUE, 3570),
    }
    # rule E5: one Direct Bill closure still inside its 7-10 day hold.
    held = Closure.objects.get(direct_bill_outcome=Closure.DirectBillOutcome.HELD)
    assert held.account.holder.email == "bill-held@demo.test"
    assert held.direct_bill_hold_from > business_date(timezone.now())


def test_held_funds_from_a_check_that_came_back(seed):
    seed()
    # rule N4: the returned check is void and its money held, with why and since when.
    held = HeldFunds.objects.get()
    assert (held.status, held.amount_cents, held.refund.status) == (
        HeldFunds.Status.HELD,
        7150,
        S.VOID,
    )
    assert held.closure.account.holder.email == "held@demo.test"
    assert "no other address" in held.reason


def test_the_returned_check_is_found_with_the_printed_details(seed, client):
    out = seed()
    assert (
        f"reference {RETURNED_CHECK_REFERENCE}, ZIP {RETURNED_CHECK_ZIP}, "
        f"last name {RETURNED_CHECK_LAST_NAME}"
    ) in out
    assert refund_of("returned@demo.test").closure.reference == RETURNED_CHECK_REFERENCE
    # rule B2: the refund status page finds it with exactly those details ...
    response = client.post(
        reverse("refund_status"),
        {
            "reference": RETURNED_CHECK_REFERENCE,
            "zip_code": RETURNED_CHECK_ZIP,
            "last_name": RETURNED_CHECK_LAST_NAME,
        },
    )
    html = response.content.decode()
    assert '<dd class="col-6 refund-state">Returned undeliverable</dd>' in html
    assert '<span class="money">$63.25</span>' in html
    # ... and rule B3: offers to send the check to a new address.
    assert reverse("refund_claim") in html


def test_new_mexico_holder_was_already_sent_both_notices(seed):
    seed()
    # rule N3: the 30-day and the 7-day notices, sent, for the same closure date.
    notices = InactivityNotice.objects.filter(account__holder__email="nm@demo.test")
    assert sorted(notices.values_list("days_before", flat=True)) == [7, 30]
    assert all(notice.sent_at is not None for notice in notices)
    assert len({notice.closes_on for notice in notices}) == 1
    assert [m.to for m in mail.outbox].count(["nm@demo.test"]) == 2


def test_demo_totp_secret_is_160_bits_and_the_printed_code_signs_staff_in(seed):
    seed()
    assert len(base64.b32decode(DEMO_TOTP_SECRET)) == 20
    out = io.StringIO()
    call_command("demo_totp_code", stdout=out)
    staff = User.objects.get(email="refunds@demo.test")
    totp = TOTP(Authenticator.objects.get(user=staff, type=Authenticator.Type.TOTP))
    assert totp.validate_code(out.getvalue().strip())


@override_settings(DEMO_DATA_ALLOWED=False)
def test_refused_where_demo_data_is_not_allowed():
    with pytest.raises(CommandError, match="Nothing was written"):
        call_command("seed_demo", stdout=io.StringIO())
    assert not User.objects.exists()


def test_refused_under_production_settings(tmp_path):
    database = tmp_path / "prod.sqlite3"
    result = manage_in_production("seed_demo", DATABASE_URL=f"sqlite:///{database}")
    assert result.returncode != 0
    assert "seed_demo refuses to run under portal.settings.prod" in result.stderr
    assert "Nothing was written." in result.stderr
    assert not database.exists()
