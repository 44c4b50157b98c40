"""Staff see which emails to holders went out and which failed, and the background
tasks that failed (E9, N3, S5.roles): every role reads them, nobody edits them."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from refunds.admin.base import LIST_PER_PAGE
from refunds.models import HolderNotice, InactivityNotice
from refunds.roles import AUDITOR, REFUND_OPERATIONS, SUPPORT
from tests.factories import CustomerAccountFactory
from tests.factories.refunds import HolderNoticeFactory, held_funds_in_bulk

pytestmark = pytest.mark.django_db

NOTICES = reverse("admin:refunds_holdernotice_changelist")
INACTIVITY_NOTICES = reverse("admin:refunds_inactivitynotice_changelist")
TASKS = reverse("admin:django_tasks_database_dbtaskresult_changelist")
SEEN = [
    "refunds.view_heldfunds",
    "refunds.view_holdernotice",
    "refunds.view_inactivitynotice",
    "django_tasks_database.view_dbtaskresult",
]
ROLES = [SUPPORT, REFUND_OPERATIONS, AUDITOR]


def listed(client, url, **query):
    return list(client.get(url, query).context["cl"].result_list)


@pytest.mark.parametrize("role", ROLES)
def test_every_role_may_see_held_funds_emails_and_tasks_and_change_none(role):
    permissions = {
        f"{app}.{codename}"
        for app, codename in Group.objects.get(name=role).permissions.values_list(
            "content_type__app_label", "codename"
        )
    }
    assert set(SEEN) <= permissions
    edits = {
        name.replace(".view_", f".{verb}_") for name in SEEN for verb in ("add", "change", "delete")
    }
    assert not edits & permissions


@pytest.mark.parametrize("role", ROLES)
def test_staff_see_an_email_that_failed_and_why(signed_in, role):
    client = signed_in(role)
    failing = HolderNoticeFactory(failing=True)
    HolderNoticeFactory(sent=True)
    page = client.get(NOTICES)
    assert page.status_code == 200
    assert b"SMTP 451: mailbox busy, try later" in page.content
    assert [notice.pk for notice in listed(client, NOTICES, sent="no")] == [failing.pk]
    found = listed(client, NOTICES, q=failing.closure.reference, kind__exact="check_returned")
    assert [notice.pk for notice in found] == [failing.pk]
    detail = client.get(reverse("admin:refunds_holdernotice_change", args=[failing.pk]))
    assert detail.status_code == 200 and failing.closure.reference.encode() in detail.content


@pytest.mark.parametrize("role", ROLES)
def test_staff_see_inactivity_notices_sent_and_not_sent(signed_in, role):
    client = signed_in(role)
    now = timezone.now()
    account = CustomerAccountFactory(service_state="NM")
    waiting = InactivityNotice.objects.create(
        account=account,
        days_before=7,
        inactive_since=now - dt.timedelta(days=173),
        closes_on=(now + dt.timedelta(days=7)).date(),
        created_at=now,
    )
    InactivityNotice.objects.create(
        account=account,
        days_before=30,
        inactive_since=now - dt.timedelta(days=173),
        closes_on=(now + dt.timedelta(days=7)).date(),
        created_at=now,
        sent_at=now,
    )
    assert [n.pk for n in listed(client, INACTIVITY_NOTICES, sent="no")] == [waiting.pk]
    assert len(listed(client, INACTIVITY_NOTICES, q=account.number)) == 2


@pytest.mark.parametrize("role", ROLES)
def test_staff_see_background_tasks_that_failed(signed_in, settings, role):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.backend.DatabaseBackend"}}  # prod
    client = signed_in(role)
    task = DBTaskResult.objects.create(
        status="FAILED",
        args_kwargs={"args": [], "kwargs": {"notice_id": 1}},
        task_path="refunds.tasks.holder_notice_send",
        backend_name="default",
        run_after=timezone.now(),
        exception_class_path="smtplib.SMTPServerDisconnected",
        traceback="smtplib.SMTPServerDisconnected: Connection unexpectedly closed",
    )
    assert [row.pk for row in listed(client, TASKS, status__exact="FAILED")] == [task.pk]
    page = client.get(reverse("admin:django_tasks_database_dbtaskresult_change", args=[task.pk]))
    assert b"Connection unexpectedly closed" in page.content


@pytest.mark.parametrize("role", ROLES)
def test_nobody_adds_changes_or_deletes_an_email_record(signed_in, role):
    client = signed_in(role)
    notice = HolderNoticeFactory(failing=True)
    assert client.get(reverse("admin:refunds_holdernotice_add")).status_code == 403
    change = reverse("admin:refunds_holdernotice_change", args=[notice.pk])
    assert client.post(change, {"sent_at": "2026-01-01 00:00"}).status_code == 403
    delete = reverse("admin:refunds_holdernotice_delete", args=[notice.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    notice.refresh_from_db()
    assert (notice.sent_at, notice.attempts) == (None, 3)
    assert HolderNotice.objects.count() == 1


@pytest.mark.parametrize("rows", [10, 200])
@pytest.mark.parametrize("url", [NOTICES, INACTIVITY_NOTICES], ids=["emails", "inactivity"])
def test_the_lists_run_in_a_bounded_number_of_queries(
    signed_in, django_assert_max_num_queries, rows, url
):
    held_funds_in_bulk(rows)
    now = timezone.now()
    InactivityNotice.objects.bulk_create(
        InactivityNotice(
            account=held.closure.account,
            days_before=30,
            inactive_since=now,
            closes_on=now.date(),
            created_at=now,
        )
        for held in HolderNotice.objects.select_related("closure__account")
    )
    client = signed_in(AUDITOR)
    # 9: on PostgreSQL one reads the table's size, so that a filtered list of a big table
    # is counted from the planner's estimate (refunds/admin/base.py).
    with django_assert_max_num_queries(9):
        page = client.get(url, {"sent": "no"})
    assert len(page.context["cl"].result_list) == min(rows, LIST_PER_PAGE)
