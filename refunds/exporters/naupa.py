"""The unclaimed property report of one state in the NAUPA standard format (rules B6, B8),
beside the CSV of `UnclaimedPropertyExporter`: the same property, owner by owner.

Before a file leaves, its counts and totals are held against the held funds and the
escheated checks it covers, counted separately in the database; a difference refuses
the report rather than send a state a wrong one.
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Sum
from django.http import HttpResponse
from django.utils import timezone

from portal.audit import AuditAction, audit_record
from portal.business_calendar import business_zone

from ..bank_files import naupa
from ..bank_files.layouts import LayoutError, fixed_record
from ..models import ExportRun, HeldFunds, Refund
from .base import ExportRefused
from .held_funds import UnclaimedPropertyExporter


@dataclass(frozen=True)
class NaupaReport:
    state: str
    filename: str
    content: str
    property_count: int
    total_cents: int


def _property_values(
    sequence: int, refund: Refund, *, held: bool, property_cents: int
) -> dict[str, object]:
    holder = refund.closure.account.holder
    return {
        "PROP_SEQUENCE_NUMBER": str(sequence),
        "PROP_OWNER_NAME_LAST": holder.last_name or refund.payee_name,
        "PROP_OWNER_NAME_FIRST": holder.first_name,
        "PROP_OWNER_ADDRESS_1": refund.address_line1,
        "PROP_OWNER_ADDRESS_2": refund.address_line2,
        "PROP_OWNER_CITY": refund.address_city,
        "PROP_OWNER_STATE": refund.address_state,
        "PROP_OWNER_ZIP": refund.address_zip.replace("-", ""),
        # decision: the owner's last contact is the closure of the account
        "PROP_DATE_OF_LAST_CONTACT": refund.closure.closed_at.astimezone(business_zone()).date(),
        "PROP_TYPE": naupa.CREDIT_BALANCE if held else naupa.UNCASHED_CHECK,
        "PROP_AMOUNT_REPORTED": property_cents,
        "PROP_AMOUNT_REMITTED": property_cents,
        "PROP_ACCOUNT_NUMBER": refund.closure.account.number,
        "PROP_CHECK_NUMBER": "" if held else refund.check_number,
    }


def _covered_in_database(*, state, date_from, date_to) -> tuple[int, int]:
    """(count, cents) of what the report must cover, counted on their own tables."""
    zone = business_zone()
    day_after = date_to + dt.timedelta(days=1)
    held = HeldFunds.objects.filter(
        status=HeldFunds.Status.REMITTED,
        remitted_to_state=state,
        remitted_on__range=(date_from, date_to),
    ).aggregate(count=Count("pk"), cents=Sum("amount_cents"))
    checks = Refund.objects.filter(
        status=Refund.Status.ESCHEATED,
        address_state=state,
        status_changed_at__gte=dt.datetime.combine(date_from, dt.time.min, zone),
        status_changed_at__lt=dt.datetime.combine(day_after, dt.time.min, zone),
    ).aggregate(count=Count("pk"), cents=Sum("amount_cents"))
    return (
        held["count"] + checks["count"],
        (held["cents"] or 0) + (checks["cents"] or 0),
    )


def naupa_report(*, state: str, date_from: dt.date, date_to: dt.date) -> NaupaReport:
    """What was remitted to `state` from `date_from` to `date_to`: a holder record, a
    property record per owner's property, and a summary record with the totals."""
    if date_from > date_to:
        raise ExportRefused("The start date is after the end date.")
    properties = (
        UnclaimedPropertyExporter()
        .queryset(date_from=date_from, date_to=date_to)
        .filter(remitted_to=state)
        .select_related("closure__account__holder", "held_funds")
    )
    holder = settings.UNCLAIMED_PROPERTY_HOLDER
    records = [
        fixed_record(
            naupa.HOLDER.fields,
            {
                "HOLDER_TAX_ID": holder["tax_id"],
                "HOLDER_REPORT_YEAR": str(date_to.year),
                "HOLDER_REPORT_NUMBER": "1",
                "HOLDER_NAME": holder["name"],
                "HOLDER_CITY": holder["city"],
                "HOLDER_STATE": holder["state"],
                "HOLDER_CONTACT_NAME": holder["contact_name"],
                "HOLDER_CONTACT_ADDRESS_1": holder["contact_address"],
                "HOLDER_CONTACT_CITY": holder["contact_city"],
                "HOLDER_CONTACT_STATE": holder["contact_state"],
                "HOLDER_CONTACT_ZIP": holder["contact_zip"],
                "HOLDER_CONTACT_PHONE": holder["contact_phone"],
            },
            naupa.RECORD_LENGTH,
        )
    ]
    total_cents = 0
    try:
        for sequence, refund in enumerate(properties, start=1):
            held_funds = getattr(refund, "held_funds", None)
            if held_funds is not None and held_funds.status == HeldFunds.Status.REMITTED:
                held, property_cents = True, held_funds.amount_cents
            else:
                held, property_cents = False, refund.amount_cents
            total_cents += property_cents
            records.append(
                fixed_record(
                    naupa.PROPERTY.fields,
                    _property_values(sequence, refund, held=held, property_cents=property_cents),
                    naupa.RECORD_LENGTH,
                )
            )
        count = len(records) - 1
        records.append(
            fixed_record(
                naupa.SUMMARY.fields,
                {
                    "SUMM_NUMBER_OF_RECORDS": str(count),
                    "SUMM_AMOUNT_REPORTED": total_cents,
                    "SUMM_AMOUNT_REMITTED": total_cents,
                },
                naupa.RECORD_LENGTH,
            )
        )
    except LayoutError as exc:
        raise ExportRefused(f"A value does not fit the NAUPA format: {exc}") from exc
    covered = _covered_in_database(state=state, date_from=date_from, date_to=date_to)
    if covered != (count, total_cents):
        raise ExportRefused(
            f"The report for {state} does not add up: it holds {count} properties for "
            f"{total_cents} cents, but {covered[0]} held funds and escheated checks for "
            f"{covered[1]} cents were remitted. Nothing was exported."
        )
    return NaupaReport(
        state=state,
        filename=f"naupa_{state}_{date_from}_{date_to}.txt",
        content="".join(record + "\r\n" for record in records),
        property_count=count,
        total_cents=total_cents,
    )


def naupa_export_response(*, state: str, date_from, date_to, actor, at=None) -> HttpResponse:
    """Record the NAUPA export (an `ExportRun` and its audit event), then send it."""
    report = naupa_report(state=state, date_from=date_from, date_to=date_to)
    at = at or timezone.now()
    with transaction.atomic():
        run = ExportRun.objects.create(
            exporter=UnclaimedPropertyExporter.key,
            file_format=ExportRun.Format.NAUPA,
            date_from=date_from,
            date_to=date_to,
            row_count=report.property_count,
            actor=actor,
            created_at=at,
        )
        audit_record(
            actor=actor,
            action=AuditAction.EXPORT_NAUPA,
            target=run,
            after={
                "state": state,
                "from": date_from,
                "to": date_to,
                "properties": report.property_count,
                "total_cents": report.total_cents,
            },
            at=at,
        )
    response = HttpResponse(report.content.encode("ascii"), content_type="text/plain")
    response["Content-Disposition"] = f'attachment; filename="{report.filename}"'
    return response
