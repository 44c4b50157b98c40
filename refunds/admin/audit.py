"""The audit trail (portal's AuditEvent and AuditSeal) as auditors read it in the back
office: read only, searched and filtered through its indexes."""

import json
from functools import reduce
from operator import or_

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import Q
from django.utils.html import format_html

from portal.admin_filters import date_range_filter
from portal.audit import AuditAction, covering_seal
from portal.datakeys import KeyRing
from portal.models import AuditEvent, AuditSeal

from ..models import AddressChangeRequest, Closure, HeldFunds, Refund
from .base import ReadOnlyAdmin
from .search import closure_reference_term


def indexed_values(column: str) -> list[str]:
    """The distinct values of an indexed column of the audit trail, in order, read off its
    index one value at a time: `SELECT DISTINCT` reads every event (PostgreSQL before 18
    has no skip scan), 0.6 s a column at five million events."""
    connection = connections[AuditEvent.objects.db]
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    name = connection.ops.quote_name(column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH RECURSIVE seen(value) AS ("  # noqa: S608 (names quoted, from the model)
            f"SELECT min({name}) FROM {table} UNION ALL "
            f"SELECT (SELECT min({name}) FROM {table} WHERE {name} > seen.value) "
            f"FROM seen WHERE seen.value IS NOT NULL) "
            f"SELECT value FROM seen WHERE value IS NOT NULL"
        )
        return [value for (value,) in cursor.fetchall()]


class IndexedValuesFilter(admin.SimpleListFilter):
    """A filter by the values the trail holds in an indexed column (`indexed_values`)."""

    parameter_name: str

    def lookups(self, request, model_admin):
        return [(value, self.words(value)) for value in indexed_values(self.parameter_name)]

    def words(self, value: str) -> str:
        return value

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(**{self.parameter_name: value}) if value else queryset


class ActionFilter(IndexedValuesFilter):
    title = "action"
    parameter_name = "action"

    def words(self, value):
        return AuditAction.words(value)


class ObjectTypeFilter(IndexedValuesFilter):
    title = "object type"
    parameter_name = "object_type"


# A reference's start may match many closures: the events of the first ones are shown.
CLOSURES_SHOWN = 20
# What a closure's events are searched with: the records that point at it.
CLOSURE_RECORDS = (Refund, HeldFunds, AddressChangeRequest)


def _events_of(model, pks) -> Q:
    """The events of the `model` rows with ids `pks`, through the (type, id) index."""
    return Q(object_type=model._meta.label_lower, object_id__in=[str(pk) for pk in pks])


def audit_search(term: str) -> Q:
    """What an auditor's search box term finds, read as the one kind of thing it looks like,
    each through an index of the trail (a substring search reads every event):

    - digits: the events of the object with that id, whatever its type, and of the
      refund a check with that number was printed for;
    - a closure reference (`CL-ABCD-EFGH`, or its start): the events of the closure and
      its refunds, held funds and address changes;
    - an email (has `@`): the events its user did;
    - an action's code or the start of one (`refund.`), or words of its label ("cashed"):
      the events of those actions;
    - anything else: the object's or the actor's text containing it (a scan).
    """
    if term.isdigit():
        # An object's id, or a check's number: the refund it was printed for.
        checks = Refund.objects.filter(check_number=term).values_list("pk", flat=True)
        return Q(object_type__in=indexed_values("object_type"), object_id=term) | _events_of(
            Refund, checks
        )
    if reference := closure_reference_term(term):
        # Exact, or the start of one while it is typed (the references' prefix index).
        closures = list(
            Closure.objects.filter(reference__startswith=reference)
            .order_by("reference")
            .values_list("pk", flat=True)[:CLOSURES_SHOWN]
        )
        return reduce(
            or_,
            (
                _events_of(
                    model, model.objects.filter(closure__in=closures).values_list("pk", flat=True)
                )
                for model in CLOSURE_RECORDS
            ),
            _events_of(Closure, closures),
        )
    if "@" in term:
        # The ids themselves, not a subquery: planned with the actor's own statistics,
        # the page of a subquery's actors walked the whole trail by id (1.7 s).
        users = get_user_model().objects.filter(email__iexact=term)
        return Q(actor__in=list(users.values_list("pk", flat=True)))
    words = term.casefold()
    actions = [
        action
        for action, label in AuditAction.choices
        if action.startswith(words) or words in str(label).casefold()
    ]
    if actions:
        return Q(action__in=actions)
    return Q(object_repr__icontains=term) | Q(actor_label__icontains=term)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The audit trail, to read (SPEC §5): no role, superuser included, adds, edits or
    deletes an entry here; on PostgreSQL the database refuses it too. At tens of millions
    of events its list is counted from PostgreSQL's estimate, its filters read their
    choices off the indexes and its search goes to an index (`audit_search`)."""

    list_display = [
        "occurred_at",
        "actor_label",
        "what",
        "object_type",
        "object_id",
        "object_shown",
    ]
    list_filter = [ActionFilter, ObjectTypeFilter, ("occurred_at", date_range_filter("when"))]
    search_fields = ["object_repr"]  # shows the box; `get_search_results` does the search
    search_help_text = (
        "An object id, a closure reference, a staff member's email, an action "
        "(refund.cashed, or words like “cashed”), or text of the object or who did it"
    )

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(audit_search(term)), False

    fields = [
        "occurred_at",
        "actor_label",
        "action",
        "object_type",
        "object_id",
        "object_shown",
        "before_json",
        "after_json",
        "reason_shown",
        "hash",
        "key_id",
        "seal",
    ]
    readonly_fields = ["object_shown", "before_json", "after_json", "reason_shown", "seal"]

    # rule B7: sealed personal values are shown opened while the holder's data key exists,
    # "[erased]" after. Sealed text cannot be searched: find a holder's events by object id.

    @admin.display(description="action", ordering="action")
    def what(self, event):
        return AuditAction.words(event.action)

    @admin.display(description="object")
    def object_shown(self, event):
        return KeyRing().open(event.object_repr)

    @admin.display(description="before")
    def before_json(self, event):
        return _json(KeyRing().open_values(event.before))

    @admin.display(description="after")
    def after_json(self, event):
        return _json(KeyRing().open_values(event.after))

    @admin.display(description="reason")
    def reason_shown(self, event):
        return KeyRing().open(event.reason)

    @admin.display(description="seal")
    def seal(self, event):
        """The seal that links the event into the chain; none yet for a moment after it
        was written (SPEC §5)."""
        return covering_seal(event.pk) or "not sealed yet"


@admin.register(AuditSeal)
class AuditSealAdmin(ReadOnlyAdmin):
    """The seal chain that links the audit trail's events (SPEC §5), to read only."""

    list_display = ["id", "sealed_at", "first_event_id", "last_event_id", "events", "key_id"]
    fields = [
        "sealed_at",
        "first_event_id",
        "last_event_id",
        "events",
        "digest",
        "prev_hash",
        "hash",
        "key_id",
    ]


def _json(values):
    return format_html("<pre>{}</pre>", json.dumps(values, indent=2, sort_keys=True))
