"""Date range filters for the back office's lists, bounded to dates a record can have."""

import datetime as dt

from django.core.validators import MaxValueValidator, MinValueValidator
from rangefilter.filters import DateRangeFilter

# Every date staff may filter or export by; outside it a date is a typing error.
DATE_BOUNDS = (dt.date(2000, 1, 1), dt.date(2099, 12, 31))
DATE_BOUNDS_MESSAGE = "Pick dates from 1 January 2000 to 31 December 2099."


class BoundedDateRangeFilter(DateRangeFilter):
    """django-admin-rangefilter's date range, refusing a date outside `DATE_BOUNDS` with a
    message: 9999-12-31 became an aware datetime past the end of time (a 500)."""

    def _get_form_fields(self):
        fields = super()._get_form_fields()
        for field in fields.values():
            field.validators += [
                MinValueValidator(DATE_BOUNDS[0], DATE_BOUNDS_MESSAGE),
                MaxValueValidator(DATE_BOUNDS[1], DATE_BOUNDS_MESSAGE),
            ]
        return fields


def date_range_filter(title: str) -> type[BoundedDateRangeFilter]:
    """`("due_date", date_range_filter("due date"))` in a `list_filter`."""
    return type(
        "BoundedDateRangeFilter",
        (BoundedDateRangeFilter,),
        {
            "__from_builder": True,
            "default_title": title,
            "default_start": None,
            "default_end": None,
        },
    )
