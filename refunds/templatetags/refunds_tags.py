from django import template
from django.utils import timezone

from refunds.selectors import closure_facts as select_closure_facts
from refunds.services.erasure import erasure_schedule

register = template.Library()


@register.simple_tag
def closure_facts(closure):
    """`{% closure_facts closure as facts %}`: refunds and why, for any page or email."""
    return select_closure_facts(closure)


@register.simple_tag
def erasure_days(closure):
    """`{% erasure_days closure as erasure %}`: when rule B7 erases the holder's data."""
    return erasure_schedule(closure=closure, now=timezone.now())
