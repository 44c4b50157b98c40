"""Rule S5.roles: each staff role can do exactly what it is for, and is refused the rest."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db import transaction
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts.models import CustomerAccount, DirectBillStatement, SupportNote
from portal.actors import SYSTEM
from portal.audit import AuditAction, audit_record
from portal.models import AuditEvent
from refunds.models import (
    AddressChangeRequest,
    BankFile,
    BankFileException,
    Closure,
    HeldFunds,
    LegalHold,
    PositivePayFile,
    Refund,
)
from refunds.roles import AUDITED_APPS, AUDITOR, HOLDER_FILE, REFUND_OPERATIONS, SUPPORT
from tests.factories.refunds import (
    AddressChangeRequestFactory,
    FinalStatementFactory,
    HeldFundsFactory,
    RefundFactory,
)

pytestmark = pytest.mark.django_db


def permissions_of(role):
    return {
        f"{app}.{codename}"
        for app, codename in Group.objects.get(name=role).permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def test_support_sees_the_holder_file_adds_notes_and_records_calls_but_moves_no_money(staff):
    assert permissions_of(SUPPORT) == {
        *HOLDER_FILE,
        "accounts.add_supportnote",
        "accounts.record_support_contact",
        "refunds.mail_letter",  # rule N3: inactivity letters
        "refunds.add_legalhold",  # rule B7: Support places and lifts legal holds
        "refunds.place_legal_hold",
    }


def test_refund_operations_move_refunds_checks_and_statements(staff):
    assert permissions_of(REFUND_OPERATIONS) == {
        *HOLDER_FILE,
        # rule B8: bank files
        "refunds.view_positivepayfile",
        "refunds.view_positivepayitem",
        "refunds.view_bankfile",
        "refunds.view_bankfileexception",
        "refunds.move_refund",
        "refunds.move_statement",
        "refunds.mail_letter",  # rule N3: inactivity letters
    }


def test_auditors_read_everything_and_export(staff):
    every_view = {
        f"{app}.{codename}"
        for app, codename in Permission.objects.filter(
            content_type__app_label__in=AUDITED_APPS, codename__startswith="view_"
        ).values_list("content_type__app_label", "codename")
    }
    assert "portal.view_auditevent" in every_view
    assert permissions_of(AUDITOR) == every_view | {"refunds.export_records"}


def fingerprint():
    """What any change by staff would alter."""
    return (
        AuditEvent.objects.count(),
        SupportNote.objects.count(),
        sorted(Refund.objects.values_list("pk", "status", "check_number")),
        sorted(DirectBillStatement.objects.values_list("pk", "status")),
    )


def admin_urls_for_every_model(sample):
    """(add, change, delete) URLs of every model in the admin, on a real row when the
    sample has one."""
    for model, model_admin in admin.site._registry.items():
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        pk = sample.get(model, 1)
        yield model_admin, reverse(f"{prefix}_add")
        yield model_admin, reverse(f"{prefix}_change", args=[pk])
        yield model_admin, reverse(f"{prefix}_delete", args=[pk])


def object_action_urls(sample):
    for model, model_admin in admin.site._registry.items():
        for tool in getattr(model_admin, "change_actions", []):
            prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
            yield reverse(f"{prefix}_actions", kwargs={"pk": sample[model], "tool": tool})


@pytest.fixture
def sample(staff):
    refund = RefundFactory(mailed=True)
    statement = FinalStatementFactory()
    return {
        Refund: refund.pk,
        Closure: refund.closure.pk,
        CustomerAccount: refund.closure.account.pk,
        DirectBillStatement: statement.pk,
        HeldFunds: HeldFundsFactory().pk,
        AddressChangeRequest: AddressChangeRequestFactory().pk,
        **bank_files(staff("Refund operations"), refund),
        LegalHold: LegalHold.objects.create(
            account=refund.closure.account,
            reason="Court order",
            placed_at=refund.created_at,
            placed_by=staff(),
        ).pk,
    }


def bank_files(clerk, refund):
    """A Positive Pay issue file and a paid-items file with one exception (rule B8)."""
    now = timezone.now()
    pay_file = PositivePayFile.objects.create(
        layout="fixed_100",
        bank_account_number="000123456789",
        bank_routing_number="011000015",
        filename="positive-pay.txt",
        content="x\r\n",
        sha256="0" * 64,
        issue_count=1,
        void_count=0,
        total_cents=refund.amount_cents,
        created_by=clerk,
        created_at=now,
    )
    bank_file = BankFile.objects.create(
        filename="paid.bai",
        sha256="1" * 64,
        content="01,",
        as_of_date=now.date(),
        paid_count=1,
        paid_cents=100,
        cleared_count=0,
        exception_count=1,
        imported_by_label="import_bank_file",
        imported_at=now,
    )
    exception = BankFileException.objects.create(
        bank_file=bank_file,
        line=4,
        check_number="999999",
        amount_cents=100,
        paid_on=now.date(),
        reason=BankFileException.Reason.UNKNOWN_CHECK,
        detail="No refund check has that number.",
    )
    return {PositivePayFile: pay_file.pk, BankFile: bank_file.pk, BankFileException: exception.pk}


@pytest.mark.parametrize("role", [AUDITOR, SUPPORT])
def test_no_page_or_button_of_the_admin_lets_an_auditor_or_support_move_money(
    client, staff, sample, role
):
    user = staff(role)
    client.force_login(user)
    request = RequestFactory().get("/")
    request.user = user
    before = fingerprint()
    for _admin, url in admin_urls_for_every_model(sample):
        assert client.post(url, {"status": "void"}).status_code == 403, url
    for url in object_action_urls(sample):
        if role == SUPPORT and ("customeraccount" in url or "legalhold" in url):
            continue  # support's own buttons: notes, calls, legal holds (test_support, B7)
        assert client.post(url, {"apply": "1", "reason": "x"}).status_code in (403, 405), url
    for model, pk in sample.items():
        model_admin = admin.site._registry[model]
        if not model_admin.has_view_permission(request):
            continue
        changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for name in [*(model_admin.actions or []), "delete_selected"]:
            response = client.post(
                changelist, {"action": name, "_selected_action": [pk], "apply": "1", "reason": "x"}
            )
            # not one of their actions: the list is shown again, or "No action selected"
            assert response.status_code in (200, 302)
    assert fingerprint() == before


def test_not_even_a_superuser_adds_changes_or_deletes_an_audit_event(signed_in, sample):
    client = signed_in(is_superuser=True)
    RefundFactory()  # something on record
    event = AuditEvent.objects.first() or _an_event()
    before = list(AuditEvent.objects.values_list("pk", "hash"))
    assert client.get(reverse("admin:portal_auditevent_add")).status_code == 403
    change = reverse("admin:portal_auditevent_change", args=[event.pk])
    assert client.get(change).status_code == 200  # to read
    assert client.post(change, {"action": "x"}).status_code == 403
    delete = reverse("admin:portal_auditevent_delete", args=[event.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    changelist = reverse("admin:portal_auditevent_changelist")
    client.post(changelist, {"action": "delete_selected", "_selected_action": [event.pk]})
    assert list(AuditEvent.objects.values_list("pk", "hash")) == before


def _an_event():
    with transaction.atomic():
        return audit_record(
            actor=SYSTEM, action=AuditAction.ACCOUNT_NOTE_ADDED, target=RefundFactory()
        )


def test_support_sees_no_buttons_that_move_money(signed_in, sample):
    client = signed_in(SUPPORT)
    page = client.get(reverse("admin:refunds_refund_change", args=[sample[Refund]]))
    assert page.status_code == 200
    assert b"Mark cashed" not in page.content
    changelist = client.get(reverse("admin:refunds_refund_changelist"))
    assert b'name="action"' not in changelist.content


def test_refund_operations_see_only_the_moves_the_status_allows(signed_in, sample):
    client = signed_in(REFUND_OPERATIONS)
    page = client.get(reverse("admin:refunds_refund_change", args=[sample[Refund]]))
    labels = [
        label
        for label in ["Mark cashed", "Returned undeliverable", "Void", "Mark issued", "Settled"]
        if label.encode() in page.content
    ]
    assert labels == ["Mark cashed", "Returned undeliverable", "Void"]


def test_every_migrate_puts_the_roles_back_to_exactly_their_permissions(staff):
    support = Group.objects.get(name=SUPPORT)
    support.permissions.add(Permission.objects.get(codename="move_refund"))
    support.permissions.remove(Permission.objects.get(codename="add_supportnote"))
    call_command("migrate", verbosity=0)
    assert permissions_of(SUPPORT) == {
        *HOLDER_FILE,
        "accounts.add_supportnote",
        "accounts.record_support_contact",
        "refunds.mail_letter",  # rule N3: inactivity letters
        "refunds.add_legalhold",  # rule B7: Support places and lifts legal holds
        "refunds.place_legal_hold",
    }
