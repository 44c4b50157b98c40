"""Exports of money that did not reach the holder (SPEC §5; rules N4, B6)."""

import datetime as dt

from django.db.models import Case, CharField, F, Q, Value, When
from django.db.models.functions import TruncDate

from portal.business_calendar import business_zone

from ..models import HeldFunds, Refund
from .base import Column, Exporter
from .records import _holder_name


class HeldFundsExporter(Exporter):
    """Held funds by the day they were held (SPEC §5, rule N4)."""

    key = "held_funds"
    copy_csv = True
    label = "Held funds"
    model = HeldFunds
    date_field = "held_since"
    columns = [
        Column("Closure reference", "closure__reference"),
        Column("Holder", "holder_name"),
        Column("Amount", "amount_cents", "money"),
        Column("Held since (UTC)", "held_since", "datetime"),
        Column("Why it is held", "reason"),
        Column("Status", "status"),
        Column("Owner notice mailed", "owner_notice_mailed_on", "date"),
        Column("Remitted", "remitted_on", "date"),
        Column("Remitted to (state)", "remitted_to_state"),
        Column("Unclaimed property report", "report_reference"),
    ]

    def base_queryset(self):
        return HeldFunds.objects.annotate(holder_name=_holder_name("closure__account__holder__"))


# The refund check of held funds that were remitted; the other rows are escheated checks.
HELD_FUNDS_REMITTED = Q(held_funds__status=HeldFunds.Status.REMITTED)


class UnclaimedPropertyExporter(Exporter):
    """Rule B6: what was remitted to states as unclaimed property in the date range,
    owner by owner: held funds remitted (N4) and stale checks escheated (SPEC §3).

    One row per refund check: for held funds, the check that could not be delivered.
    A check's escheat records no state, so for checks the state is that of the
    check's address, the first state with a claim to unclaimed property."""

    key = "unclaimed_property"
    copy_csv = True
    label = "Unclaimed property report"
    model = Refund
    columns = [
        Column("Owner", "holder_name"),
        Column("Address line 1", "address_line1"),
        Column("Address line 2", "address_line2"),
        Column("City", "address_city"),
        Column("Address state", "address_state"),
        Column("ZIP code", "address_zip"),
        Column("Amount", "amount_cents", "money"),
        Column("Remitted", "remitted_on", "date"),
        Column("Remitted to (state)", "remitted_to"),
        Column("Unclaimed property report", "report_reference"),
        Column("Property", "property_kind"),
        Column("Closure reference", "closure__reference"),
        Column("Account number", "closure__account__number"),
        Column("Check number", "check_number"),
    ]

    def queryset(self, *, date_from: dt.date, date_to: dt.date):
        """Held funds remitted on a day in the range, and checks escheated on one (the
        day their status changed, in the business time zone), by that day."""
        zone = business_zone()
        start = dt.datetime.combine(date_from, dt.time.min, tzinfo=zone)
        end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        escheated = Q(
            status=Refund.Status.ESCHEATED, status_changed_at__gte=start, status_changed_at__lt=end
        )
        remitted = HELD_FUNDS_REMITTED & Q(held_funds__remitted_on__range=(date_from, date_to))
        return (
            Refund.objects.filter(escheated | remitted)
            .annotate(
                holder_name=_holder_name("closure__account__holder__"),
                remitted_on=Case(
                    When(HELD_FUNDS_REMITTED, then=F("held_funds__remitted_on")),
                    default=TruncDate("status_changed_at", tzinfo=zone),
                ),
                remitted_to=Case(
                    When(HELD_FUNDS_REMITTED, then=F("held_funds__remitted_to_state")),
                    default=F("address_state"),
                    output_field=CharField(),
                ),
                report_reference=Case(
                    When(HELD_FUNDS_REMITTED, then=F("held_funds__report_reference")),
                    default=F("escheat_report_reference"),
                    output_field=CharField(),
                ),
                property_kind=Case(
                    When(HELD_FUNDS_REMITTED, then=Value("held funds")),
                    default=Value("stale check"),
                    output_field=CharField(),
                ),
            )
            .order_by("remitted_on", "pk")
        )
