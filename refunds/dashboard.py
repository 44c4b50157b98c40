"""The back office's first page: today's work in counts and money, each number a link to
the list behind it, and refund checks issued and cleared per day over 90 days, drawn as
server-side SVG (no script: the CSP allows none inline)."""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.urls import reverse
from django.utils.http import urlencode

from accounts.models import DirectBillStatement

from .models import BankFile, HeldFunds, HolderNotice, Refund
from .selectors import overdue_q
from .states import NOT_YET_SENT

S = Refund.Status
CHART_DAYS = 90
CHART_WIDTH = 720
CHART_HEIGHT = 160


@dataclass(frozen=True)
class Tile:
    label: str
    count: int
    cents: int | None
    url: str


def _url(name: str, **query) -> str:
    url = reverse(f"admin:{name}")
    return f"{url}?{urlencode(query)}" if query else url


def _tile(label, queryset, url, money_field="amount_cents") -> Tile:
    if money_field is None:
        return Tile(label, queryset.count(), None, url)
    # COUNT(*), not of the ids: the dashboard's indexes answer it alone (index-only).
    totals = queryset.aggregate(count=Count("*"), cents=Sum(money_field))
    return Tile(label, totals["count"], totals["cents"] or 0, url)


def _not_yet_sent() -> Q:
    condition = Q(pk__in=[])
    for method, statuses in NOT_YET_SENT.items():
        condition |= Q(method=method, status__in=statuses)
    return condition


def dashboard_tiles(*, today: dt.date, now: dt.datetime) -> list[Tile]:
    """Today's numbers. Each counts exactly the rows its link lists."""
    refunds = Refund.objects.all()
    checks = refunds.filter(method=Refund.Method.CHECK)
    last_file = BankFile.objects.order_by("-imported_at", "-id").first()
    nearing_since = now - dt.timedelta(
        days=settings.HELD_FUNDS_DISPOSITION_DAYS - settings.HELD_FUNDS_NEARING_DAYS
    )
    tiles = [
        _tile(
            "Refunds due today",
            refunds.filter(_not_yet_sent(), due_date=today),
            _url(
                "refunds_refund_changelist", due_date=today.isoformat(), status__in="pending,issued"
            ),
        ),
        _tile(
            "Refunds overdue",
            refunds.filter(overdue_q(today)),
            _url("refunds_refund_changelist", overdue="yes"),
        ),
        _tile(
            "Checks to print",
            checks.filter(status=S.PENDING),
            _url("refunds_refund_changelist", method__exact="check", status__exact="pending"),
        ),
        _tile(
            "Checks to mail",
            checks.filter(status=S.ISSUED),
            _url("refunds_refund_changelist", method__exact="check", status__exact="issued"),
        ),
    ]
    if last_file is None:
        tiles.append(
            Tile("Exceptions from the last bank file", 0, None, _url("refunds_bankfile_changelist"))
        )
    else:
        tiles.append(
            _tile(
                f"Exceptions from the last bank file ({last_file.as_of_date}) to decide",
                last_file.exceptions.filter(resolved_at__isnull=True),
                reverse("admin:refunds_bankfile_change", args=[last_file.pk]),
            )
        )
    tiles += [
        _tile(
            "Final statements past due",
            DirectBillStatement.objects.filter(status=DirectBillStatement.Status.PAST_DUE),
            _url("accounts_directbillstatement_changelist", status__exact="past_due"),
        ),
        _tile(
            f"Held funds within {settings.HELD_FUNDS_NEARING_DAYS} days of their disposition",
            HeldFunds.objects.filter(status=HeldFunds.Status.HELD, held_since__lte=nearing_since),
            _url(
                "refunds_heldfunds_changelist",
                status__exact="held",
                held_since__lte=nearing_since.isoformat(),
            ),
        ),
        _tile(
            "Emails to holders not sent",
            HolderNotice.objects.filter(sent_at__isnull=True),
            _url("refunds_holdernotice_changelist", sent="no"),
            money_field=None,
        ),
    ]
    return tiles


@dataclass(frozen=True)
class Chart:
    days: list[dt.date]
    issued: list[int]
    cleared: list[int]
    issued_points: str
    cleared_points: str
    top: int
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT

    @property
    def issued_total(self) -> int:
        return sum(self.issued)

    @property
    def cleared_total(self) -> int:
        return sum(self.cleared)


def _per_day(field: str, days: list[dt.date]) -> list[int]:
    counts = dict(
        Refund.objects.filter(
            method=Refund.Method.CHECK, **{f"{field}__range": (days[0], days[-1])}
        )
        .values_list(field)
        .annotate(count=Count("*"))
    )
    return [counts.get(day, 0) for day in days]


def _points(values: list[int], top: int) -> str:
    step = CHART_WIDTH / (len(values) - 1)
    return " ".join(
        f"{index * step:.1f},{CHART_HEIGHT - value * CHART_HEIGHT / top:.1f}"
        for index, value in enumerate(values)
    )


def dashboard_chart(*, today: dt.date) -> Chart:
    """Refund checks issued (issue date) and cleared (cashed date) per day, 90 days."""
    days = [today - dt.timedelta(days=back) for back in range(CHART_DAYS - 1, -1, -1)]
    issued = _per_day("issued_on", days)
    cleared = _per_day("cleared_on", days)
    top = max([*issued, *cleared, 1])
    return Chart(
        days=days,
        issued=issued,
        cleared=cleared,
        issued_points=_points(issued, top),
        cleared_points=_points(cleared, top),
        top=top,
    )
