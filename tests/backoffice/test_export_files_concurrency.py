"""Two workers given the same background export at once (rule S5.exports): the row lock
lets one claim it, the other does nothing, and the file is written once."""

import pytest
from django.utils import timezone

from portal.business_calendar import business_date
from refunds.exporters import base
from refunds.models import ExportRun
from refunds.roles import AUDITOR
from refunds.tasks import export_file_write
from tests.factories.refunds import RefundFactory
from tests.helpers import postgres_only, run_at_once

pytestmark = [*postgres_only, pytest.mark.django_db(transaction=True)]

TODAY = business_date(timezone.now())
Status = ExportRun.Status


def test_two_workers_at_once_write_the_file_once(staff, monkeypatch):
    RefundFactory(issued=True, issued_on=TODAY, check_number="410001")
    RefundFactory(issued=True, issued_on=TODAY, check_number="410002")
    run = ExportRun.objects.create(
        exporter="check_register",
        file_format="xlsx",
        date_from=TODAY,
        date_to=TODAY,
        row_count=2,
        last_id=10**9,
        actor=staff(AUDITOR),
        created_at=timezone.now(),
        status=Status.QUEUED,
    )
    calls = []
    plain = base.xlsx_file

    def counted_writer(*args, **kwargs):
        calls.append(1)
        return plain(*args, **kwargs)

    monkeypatch.setattr("refunds.exporters.files.xlsx_file", counted_writer)
    _results, errors = run_at_once(2, lambda i: export_file_write.call(run_id=run.pk))
    assert errors == []
    assert len(calls) == 1
    run.refresh_from_db()
    assert (run.status, run.rows_written) == (Status.READY, 2)
