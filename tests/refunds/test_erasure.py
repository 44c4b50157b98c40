"""Rule B7: delete means delete. Pinned clocks; both databases."""

import csv
import datetime as dt
import io

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection

from accounts.models import User
from accounts.services import address_change, phone_number_add
from portal.audit import audit_checkpoint_write, audit_event_open, audit_verify
from portal.models import AuditEvent, DataKey
from refunds.exporters import EXPORTERS
from refunds.exporters.base import csv_chunks
from refunds.models import ErasureRecord, Refund
from refunds.services import closure_confirm
from refunds.services.card_refunds import card_refund_submit
from refunds.services.erasure import (
    LegalHoldRefused,
    erasure_schedule,
    identities_erase,
    legal_hold_lift,
    legal_hold_place,
    records_erase,
)
from refunds.services.support import support_note_add
from refunds.services.transitions import (
    card_refund_mark_settled,
    refund_mark_cashed,
    refund_mark_issued,
    refund_mark_mailed,
    refund_mark_returned,
    refund_reissue,
)
from tests.factories import AdvanceConnectFactory, LedgerEntryFactory, UserFactory

pytestmark = pytest.mark.django_db

DAY0 = dt.datetime(2026, 1, 5, 15, 0, tzinfo=dt.timezone.utc)
EMAIL = "maria.quetzal@example.test"
PHONE = "5125559876"
NAME = "Quetzalcoatl"
LINE1 = "77 ZEPHYR ST"
CITY = "SNOWFLAKE"


def day(n):
    return DAY0 + dt.timedelta(days=n)


@pytest.fixture
def clerk():
    return UserFactory(staff=True, email="clerk@portal.test")


def holder_account(*, by_check=False):
    """A holder with every kind of personal data the portal keeps, then closed on day 0."""
    ac = AdvanceConnectFactory(
        account__holder__email=EMAIL,
        account__holder__last_name=NAME,
        account__phone=PHONE,
        account__opened_at=day(-400),
    )
    account = ac.account
    deposit = {"by_mail": True} if by_check else {}
    LedgerEntryFactory(advance_connect=ac, amount_cents=4250, occurred_at=day(-30), **deposit)
    LedgerEntryFactory(
        advance_connect=ac, settled_call=True, amount_cents=100, occurred_at=day(-20)
    )
    address_change(
        account=account,
        actor=account.holder,
        line1=LINE1,
        city=CITY,
        state="AZ",
        zip_code="85937",
        at=day(-10),
    )
    phone_number_add(
        account=account, actor=account.holder, number="5125551111", label=NAME, at=day(-9)
    )
    support_note_add(
        account=account, author=UserFactory(staff=True), text=f"{NAME} called", at=day(-8)
    )
    Authenticator.objects.create(user=account.holder, type=Authenticator.Type.TOTP, data={})
    session = SessionStore()
    session["_auth_user_id"] = str(account.holder.pk)
    session.create()
    closure = closure_confirm(account=account, actor=account.holder, at=DAY0)
    return account, closure


def card_settled_on_day_3():
    account, closure = holder_account()
    refund = closure.refunds.get()
    card_refund_submit(refund_id=refund.pk, now=day(1))
    card_refund_mark_settled(refund=refund, actor="system", at=day(3))
    return account, closure


def stored_text() -> str:
    """Every value of every column of every table, as text."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            chunks += [repr(row) for row in cursor.fetchall()]
    return "\n".join(chunks)


def money_in(export_key, amount="Amount", name="Payee") -> tuple[int, list[str]]:
    """The money an auditor's export totals, and the names it shows."""
    exporter = EXPORTERS[export_key]
    queryset = exporter.queryset(date_from=day(-500).date(), date_to=day(4000).date())
    rows = list(
        csv.DictReader(io.StringIO("".join(csv_chunks(exporter, queryset)).lstrip("\ufeff")))
    )
    cents = sum(int(row[amount].replace(".", "")) for row in rows)
    return cents, [row[name].strip() for row in rows]


def trail_intact(now) -> bool:
    audit_checkpoint_write(at=now)
    return audit_verify(now=now).intact


def test_a_card_refund_settled_on_day_3_erases_identity_on_day_93_and_records_after_7_years():
    account, closure = card_settled_on_day_3()
    holder = account.holder
    assert EMAIL in stored_text() and NAME in stored_text()
    money_before = money_in("refunds")
    closures_before = money_in("closures", "Refund", "Holder")
    schedule = erasure_schedule(closure=closure, now=day(4))
    assert (schedule.final, schedule.identity_on, schedule.records_on) == (
        True,
        dt.date(2026, 4, 8),  # day 93
        dt.date(2033, 1, 8),  # 7 years after day 3
    )

    assert identities_erase(now=day(92)) == []
    (record,) = identities_erase(now=day(93))
    assert (record.stage, record.rule, record.money_final_at) == ("identity", "B7", day(3))
    assert identities_erase(now=day(94)) == []  # idempotent

    holder.refresh_from_db()
    assert holder.email == f"erased-{account.number}@erased.invalid"
    assert not holder.has_usable_password()
    assert not EmailAddress.objects.filter(user=holder).exists()
    assert not Authenticator.objects.filter(user=holder).exists()
    assert not account.phone_numbers.exists()
    text = stored_text()
    for needle in (EMAIL, PHONE, "5125551111", f"{NAME} called"):
        assert needle not in text, needle
    # The phone events can no longer be read; the address events still can (stage 2).
    phone_event = AuditEvent.objects.get(action="phone.added")
    assert audit_event_open(phone_event)["after"]["number"] == "[erased]"
    address_event = AuditEvent.objects.get(action="address.changed")
    assert audit_event_open(address_event)["after"]["line1"] == LINE1
    assert trail_intact(day(93))
    assert money_in("refunds")[0] == money_before[0]

    seven_years = dt.datetime(2033, 1, 8, 15, 0, tzinfo=dt.timezone.utc)
    assert records_erase(now=seven_years - dt.timedelta(days=1)) == []
    (record,) = records_erase(now=seven_years)
    assert record.stage == "records"
    assert records_erase(now=seven_years) == []
    text = stored_text()
    for needle in (EMAIL, PHONE, NAME, LINE1, CITY, "85937"):
        assert needle not in text, needle
    assert audit_event_open(address_event)["after"]["line1"] == "[erased]"
    assert not DataKey.objects.filter(holder=holder).exists()
    assert trail_intact(seven_years)
    assert money_in("refunds")[0] == money_before[0] == 4150
    assert money_in("closures", "Refund", "Holder") == (
        closures_before[0],
        [f"Former holder {account.number}"],
    )
    refund = closure.refunds.get()
    assert (refund.amount_cents, refund.status, refund.card_last4) == (4150, "settled", "4242")


def test_a_check_that_comes_back_on_day_80_restarts_the_clock(clerk):
    account, closure = holder_account(by_check=True)
    check = closure.refunds.get()
    refund_mark_issued(refund=check, actor=clerk, check_number="100201", at=day(1))
    refund_mark_mailed(refund=check, actor=clerk, at=day(2))
    refund_mark_returned(refund=check, actor=clerk, reason="Moved", at=day(80))
    assert erasure_schedule(closure=closure, now=day(81)).final is False
    new = refund_reissue(
        refund=check, actor=clerk, line1=LINE1, city=CITY, state="AZ", zip_code="85937", at=day(81)
    )
    refund_mark_issued(refund=new, actor=clerk, check_number="100202", at=day(82))
    refund_mark_mailed(refund=new, actor=clerk, at=day(82))
    refund_mark_cashed(refund=new, actor=clerk, at=day(100))

    assert identities_erase(now=day(93)) == []
    assert identities_erase(now=day(189)) == []
    (record,) = identities_erase(now=day(190))
    assert record.money_final_at == day(100)
    assert new.__class__.objects.get(pk=new.pk).status == Refund.Status.CASHED


def test_a_legal_hold_stops_both_stages_until_lifted(clerk):
    account, _closure = card_settled_on_day_3()
    hold = legal_hold_place(
        account=account, actor=clerk, reason="Subpoena 26-114", until=None, at=day(50)
    )
    assert identities_erase(now=day(93)) == []
    assert identities_erase(now=day(200)) == []
    legal_hold_lift(hold=hold, actor=clerk, reason="Case closed", at=day(201))
    assert len(identities_erase(now=day(201))) == 1

    later = dt.datetime(2033, 2, 1, 15, 0, tzinfo=dt.timezone.utc)
    hold = legal_hold_place(
        account=account, actor=clerk, reason="Audit", until=dt.date(2033, 6, 1), at=later
    )
    assert records_erase(now=later) == []
    after = dt.datetime(2033, 6, 2, 15, 0, tzinfo=dt.timezone.utc)
    assert len(records_erase(now=after)) == 1  # the hold ran out on its own
    actions = list(
        AuditEvent.objects.filter(action__startswith="legal_hold").values_list("action", flat=True)
    )
    assert actions == ["legal_hold.placed", "legal_hold.lifted", "legal_hold.placed"]


def test_a_hold_needs_a_reason_and_an_end_not_in_the_past(clerk):
    account, _closure = card_settled_on_day_3()
    with pytest.raises(LegalHoldRefused, match="why"):
        legal_hold_place(account=account, actor=clerk, reason="  ", until=None, at=day(5))
    with pytest.raises(LegalHoldRefused, match="before today"):
        legal_hold_place(account=account, actor=clerk, reason="x", until=day(4).date(), at=day(5))
    assert not account.legal_holds.exists()


def test_money_not_final_while_the_card_refund_is_on_its_way():
    account, closure = holder_account()
    assert erasure_schedule(closure=closure, now=day(200)).final is False
    assert identities_erase(now=day(400)) == []
    assert User.objects.filter(email=EMAIL).exists()
    assert ErasureRecord.objects.count() == 0


def test_the_done_page_and_the_email_give_both_days(client, django_capture_on_commit_callbacks):
    from django.core import mail
    from django.urls import reverse
    from django.utils.formats import date_format

    from refunds import flow

    ac = AdvanceConnectFactory()
    LedgerEntryFactory(advance_connect=ac, amount_cents=4250, by_mail=True)
    with django_capture_on_commit_callbacks(execute=True):
        closure = closure_confirm(account=ac.account, actor=ac.account.holder)
    schedule = erasure_schedule(closure=closure, now=closure.closed_at)
    identity = date_format(schedule.identity_on, "DATE_FORMAT")
    records = date_format(schedule.records_on, "DATE_FORMAT")
    (email,) = [m for m in mail.outbox if closure.reference in m.body]
    assert identity in email.body and records in email.body
    session = client.session
    session[flow.DONE_KEY] = closure.reference
    session.save()
    page = client.get(reverse("delete_account:done")).content.decode()
    assert identity in page and records in page


def test_the_auditor_exports_the_erasure_records_without_personal_data():
    account, _closure = card_settled_on_day_3()
    identities_erase(now=day(93))
    exporter = EXPORTERS["erasures"]
    queryset = exporter.queryset(date_from=day(90).date(), date_to=day(95).date())
    text = "".join(csv_chunks(exporter, queryset))
    (row,) = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    assert (row["Account number"], row["Stage"], row["Rule"]) == (account.number, "identity", "B7")
    assert row["Money final (UTC)"] == "2026-01-08 15:00:00"
    assert "accounts.user.email" in row["What was erased"]
    assert EMAIL not in text and NAME not in text
