"""Support (rule S5.roles): find a holder with one search box, see the whole file on one page,
add notes, record that the holder called (activity, rule N2)."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import CustomerAccount, LedgerEntry, SupportNote
from accounts.services import Activity
from portal.audit import audit_event_open
from portal.models import AuditEvent
from refunds.roles import SUPPORT
from refunds.services.support import support_contact_record, support_note_add
from tests.factories import (
    AdvanceConnectFactory,
    CustomerAccountFactory,
    DirectBillChargeFactory,
    DirectBillFactory,
    LedgerEntryFactory,
    UserFactory,
)
from tests.factories.refunds import ClosureFactory, FinalStatementFactory, RefundFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:accounts_customeraccount_changelist")


@pytest.fixture
def support(signed_in):
    return signed_in(SUPPORT)


@pytest.fixture
def holder_file():
    """Charles Okafor: closed, a refund check, a final Direct Bill statement, a note."""
    holder = UserFactory(first_name="Charles", last_name="Okafor", email="charles@example.test")
    closure = ClosureFactory(
        account__holder=holder, account__number="700012345", account__phone="5125550199"
    )
    account = closure.account
    advance_connect = AdvanceConnectFactory(account=account)
    LedgerEntryFactory(advance_connect=advance_connect, by_moneygram=True, amount_cents=6000)
    LedgerEntryFactory(
        advance_connect=advance_connect,
        kind=LedgerEntry.Kind.REFUND,
        method="",
        amount_cents=4250,
        memo="Refund for closure",
    )
    RefundFactory(closure=closure, issued=True, check_number="610001")
    statement = FinalStatementFactory(
        direct_bill=DirectBillFactory(account=account), amount_cents=1890
    )
    DirectBillChargeFactory(direct_bill=statement.direct_bill, amount_cents=777)
    SupportNote.objects.create(
        account=account,
        author=UserFactory(staff=True),
        created_at=timezone.now(),
        text="Asked where the check is",
    )
    CustomerAccountFactory(holder__first_name="Other", holder__last_name="Person")
    return account


@pytest.mark.parametrize(
    "term",
    [
        "Charles Okafor",
        "okafor",
        "charles@example.test",
        "5125550199",
        "(512) 555-0199",
        "512-555-0199",
        "(512) 555 0199",
        "+1 512 555 0199",
        "1-512-555-0199",
        "555-0199",
        "700012345",
        "reference",
    ],
)
def test_one_search_box_finds_a_holder(support, holder_file, term):
    if term == "reference":
        term = holder_file.closure.reference.lower()
    found = support.get(CHANGELIST, {"q": term}).context["cl"].result_list
    assert [account.pk for account in found] == [holder_file.pk]


def test_a_phone_search_finds_no_one_for_another_number(support, holder_file):
    """Stored as E.164: a typed number is normalised, not matched by loose digits."""
    for term in ["(512) 555-0198", "000-000-0000"]:
        assert not support.get(CHANGELIST, {"q": term}).context["cl"].result_list


def test_the_whole_file_is_on_one_page(support, holder_file):
    page = support.get(reverse("admin:accounts_customeraccount_change", args=[holder_file.pk]))
    content = page.content.decode()
    for expected in [
        "Charles Okafor",
        "(512) 555-0199",
        "1200 E 6TH ST",
        "$60.00",  # the MoneyGram deposit in the ledger
        "-$42.50",  # the refund out of the balance
        "MoneyGram",
        holder_file.closure.reference,
        "610001",  # the refund check
        "Final statement",
        "$18.90",
        "$7.77",  # an unbilled Direct Bill charge
        "Asked where the check is",
        "Holder contacted support",
        "Add a note",
    ]:
        assert expected in content, expected
    assert 'name="number"' not in content  # nothing to edit


def test_support_adds_a_note(support, holder_file):
    url = reverse(
        "admin:accounts_customeraccount_actions",
        kwargs={"pk": holder_file.pk, "tool": "add_note"},
    )
    assert support.get(url).status_code == 200
    response = support.post(url, {"apply": "1", "text": "Gave the new address to refunds"})
    assert response.status_code == 302
    note = SupportNote.objects.get(text="Gave the new address to refunds")
    assert note.account == holder_file and note.author.is_staff
    event = AuditEvent.objects.get(action="account.note_added")
    assert "new address" not in str(event.after)  # rule B7: sealed with the holder's key
    assert audit_event_open(event)["after"]["text"] == "Gave the new address to refunds"


def test_a_note_is_never_edited_or_deleted(holder_file):
    note = SupportNote.objects.get(account=holder_file)
    note.text = "changed"
    with pytest.raises(ValueError):
        note.save()
    with pytest.raises(ValueError):
        note.delete()


def test_recording_a_call_is_activity_and_audited(support, holder_file):
    open_account = CustomerAccountFactory(
        last_activity_at=timezone.now() - dt.timedelta(days=170), new_mexico=True
    )
    url = reverse(
        "admin:accounts_customeraccount_actions",
        kwargs={"pk": open_account.pk, "tool": "holder_contacted_support"},
    )
    assert support.get(url).status_code == 405
    support.post(url)
    support.post(url)  # a double click
    open_account.refresh_from_db()
    assert open_account.last_activity_kind == Activity.SUPPORT_CONTACT
    assert timezone.now() - open_account.last_activity_at < dt.timedelta(minutes=1)
    assert AuditEvent.objects.filter(action="account.support_contact").count() == 1


def test_a_call_restarts_the_180_days_but_never_moves_activity_back():
    account = CustomerAccountFactory()
    staff = UserFactory(staff=True)
    later = timezone.now() + dt.timedelta(hours=1)
    support_contact_record(account=account, actor=staff, at=later)
    support_contact_record(account=account, actor=staff, at=later - dt.timedelta(hours=5))
    account.refresh_from_db()
    assert account.last_activity_at == later


def test_a_double_submitted_note_is_kept_once(holder_file):
    author = UserFactory(staff=True)
    first = support_note_add(account=holder_file, author=author, text="Called twice")
    second = support_note_add(account=holder_file, author=author, text="Called twice")
    assert first == second
    assert SupportNote.objects.filter(text="Called twice").count() == 1


def test_support_cannot_close_or_edit_an_account(support, holder_file):
    change = reverse("admin:accounts_customeraccount_change", args=[holder_file.pk])
    assert support.post(change, {"status": "open"}).status_code == 403
    assert CustomerAccount.objects.get(pk=holder_file.pk).status == "closed"
