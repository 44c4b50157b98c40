from django import template

from refunds.selectors import closure_facts as select_closure_facts

register = template.Library()


@register.simple_tag
def closure_facts(closure):
    """`{% closure_facts closure as facts %}`: refunds and why, for any page or email."""
    return select_closure_facts(closure)
