from django import template
from django.utils import timezone

from portal.business_calendar import business_date
from refunds.dashboard import dashboard_chart, dashboard_tiles
from refunds.selectors import closure_facts as select_closure_facts
from refunds.services.erasure import erasure_schedule

register = template.Library()


@register.simple_tag
def closure_facts(closure):
    """`{% closure_facts closure as facts %}`: refunds and why, for any page or email."""
    return select_closure_facts(closure)


@register.inclusion_tag("admin/backoffice/dashboard.html")
def backoffice_dashboard():
    """`{% backoffice_dashboard %}`: today's numbers and the 90-day chart (admin index)."""
    now = timezone.now()
    today = business_date(now)
    return {
        "today": today,
        "tiles": dashboard_tiles(today=today, now=now),
        "chart": dashboard_chart(today=today),
    }


@register.simple_tag
def erasure_days(closure):
    """`{% erasure_days closure as erasure %}`: when rule B7 erases the holder's data."""
    return erasure_schedule(closure=closure, now=timezone.now())
