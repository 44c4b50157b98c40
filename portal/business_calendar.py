"""Business days: Monday to Friday, not a Federal Reserve bank holiday, counted in the
business time zone (SPEC §0). Times are stored in UTC and only turned local here."""

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.conf import settings
from holidays.financial.federal_reserve import FederalReserve


def business_zone() -> ZoneInfo:
    return ZoneInfo(settings.BUSINESS_TIME_ZONE)


def business_date(moment: dt.datetime) -> dt.date:
    """The calendar date of an aware moment in the business time zone."""
    return moment.astimezone(business_zone()).date()


@lru_cache(maxsize=64)
def _fed_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(FederalReserve(years=year))


def is_business_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _fed_holidays(day.year)


@lru_cache(maxsize=256)  # a sweep asks for the same due date for every account of a batch
def add_business_days(start: dt.date, days: int) -> dt.date:
    """The date `days` business days after `start` (the start day itself not counted)."""
    day = start
    remaining = days
    while remaining > 0:
        day += dt.timedelta(days=1)
        if is_business_day(day):
            remaining -= 1
    return day


def add_calendar_days(start: dt.date, days: int) -> dt.date:
    return start + dt.timedelta(days=days)
