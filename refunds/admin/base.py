"""What every back-office admin shares: read-only pages, buttons, intermediate pages."""

import datetime as dt
import json
from collections.abc import Sequence
from functools import lru_cache
from urllib.parse import quote as url_quote

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import quote
from django.contrib.admin.views.main import ChangeList
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from localflavor.us.us_states import STATE_CHOICES

from portal.admin_selection import CheckedSelectionMixin
from portal.audit import AuditAction
from portal.datakeys import KeyRing
from portal.display import business_datetime
from portal.errors import Refused
from portal.models import AuditEvent

# django-object-actions buttons: a link to a page with a form, or a button that POSTs.
FORM_PAGE = {"methods": ("GET", "POST"), "button_type": "a"}
POST_BUTTON = {"methods": ("POST",), "button_type": "form"}


# Below this many rows (by the planner's statistics) an exact count costs nothing.
ESTIMATE_FROM = 100_000


def estimated_rows(queryset) -> int | None:
    """PostgreSQL's estimate of a list's rows: `pg_class.reltuples` (kept by ANALYZE and
    autovacuum) for an unfiltered list or a small table, the planner's row estimate for a
    filtered list of a big table; None on a database that keeps no such estimate (SQLite)."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
            [connection.ops.quote_name(queryset.model._meta.db_table)],
        )
        row = cursor.fetchone()
    table_rows = row[0] if row and row[0] >= 0 else None  # -1: never analyzed
    query = queryset.query
    filtered = query.where or query.distinct or query.combinator
    if not filtered or table_rows is None or table_rows < ESTIMATE_FROM:
        return None if filtered else table_rows
    # An empty filter (`pk__in=[]`) compiles to no SQL at all: nothing to explain.
    # Planned as the count would be: without the page's joins and order, planning is cheaper.
    rows = queryset.order_by().values("pk")
    plan = rows.explain(format="json") if not query.is_empty() else ""
    return int(json.loads(plan)[0]["Plan"]["Plan Rows"]) if plan else 0


# A search estimated at most READ_WHOLE_ESTIMATE rows has its ids read whole, if it finds
# at most READ_WHOLE_UP_TO (ids, in the list's order: a few kilobytes).
READ_WHOLE_ESTIMATE = 10_000
READ_WHOLE_UP_TO = 1_000


class FoundRows(Sequence):
    """The rows of `queryset` with `ids`, in that order, read a page at a time by id."""

    def __init__(self, queryset, ids):
        self.queryset = queryset
        self.ids = ids

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, index):
        ids = self.ids[index] if isinstance(index, slice) else [self.ids[index]]
        by_id = {row.pk: row for row in self.queryset.filter(pk__in=ids)}
        rows = [by_id[pk] for pk in ids if pk in by_id]
        return rows if isinstance(index, slice) else rows[0]


class EstimatedCountPaginator(Paginator):
    """A list of a big table, filtered or not, is counted from PostgreSQL's estimate
    instead of `COUNT(*)` over every row it holds (at ten million refunds the count of
    the checks took 0.6 s, ten times the rest of the page). A search in a big table
    estimated at most READ_WHOLE_ESTIMATE rows has the ids it finds read once, in order,
    and its page read by id: a trigram search then runs once, not once to count and again
    for the page, and never under the page's `LIMIT 25`. The planner guesses substring
    matches poorly ("Paul Okquez": 2,445 estimated, 178 found among 6 million accounts),
    and to find 25 rows it believes common it walked the primary key backwards through
    every account (8 s); asked for 1,001 ids it scans the trigram index and sorts (15 ms).
    Past the first pages an estimate may be off: Django's admin answers a page past the
    end by going back to the first."""

    @cached_property
    def count(self):
        estimate = estimated_rows(self.object_list)
        if estimate is not None and estimate >= ESTIMATE_FROM:
            return estimate
        rows = self.object_list
        small = estimate is not None and estimate <= READ_WHOLE_ESTIMATE
        # Not an unfiltered list: a table that small is counted cheaply.
        if small and isinstance(rows, QuerySet) and rows.query.where:
            ids = list(rows.values_list("pk", flat=True)[: READ_WHOLE_UP_TO + 1])
            if len(ids) <= READ_WHOLE_UP_TO:
                self.object_list = FoundRows(rows, ids)
                return len(ids)
        return super().count


# What `reverse` leaves unquoted in a path (RFC 3986 `pchar`).
URL_SAFE = RFC3986_SUBDELIMS + "/~:@"
# Stands for a record's id in its page's URL, reversed once per URL name (`change_url`).
ROW_ID = "__row_id__"


class BackOfficeChangeList(ChangeList):
    """Django's list, with three savings:

    - the page's rows are read with only the fields its columns show;
    - a search that fits on one page is shown from the ids the paginator already found
      (Django would run the search again);
    - each row's link to its record is written by `change_url`, reversed once. Django
      reverses it for every row and, on a filtered list, then parses the filters and
      resolves that URL again to carry the filters along: about 0.1 ms a row."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The filters are already on each row's link (url_for_result): Django's
        # add_preserved_filters, run for every row, finds none left to add.
        self.row_link_filters = self.preserved_filters
        self.preserved_filters = ""

    def get_results(self, request):
        # Only what the columns show (ReadOnlyAdmin.list_only): a refund's row joined with
        # its closure and account had some sixty columns, a dozen of them dates and times.
        if only := getattr(self.model_admin, "list_only", ()):
            self.queryset = self.queryset.only(*only)
        super().get_results(request)
        if not self.multi_page and isinstance(self.paginator.object_list, FoundRows):
            self.result_list = self.paginator.object_list[:]

    def url_for_result(self, result):
        """Django's URL (the id quoted as the admin quotes it) with the list's filters."""
        url = change_url(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
            quote(getattr(result, self.pk_attname)),
        )
        return f"{url}?{self.row_link_filters}" if self.row_link_filters else url


# Rows on a list page. Each row costs the admin about as much as a page's queries at ten
# million refunds, so a page of 100 answered in 3-4 times the 50 ms of issue 13; filters and
# the search box find a record, the pages after the first are rarely read.
LIST_PER_PAGE = 25


class ReadOnlyAdmin(CheckedSelectionMixin):
    """Money records are written only by services (buttons and actions), never by
    editing a form: nobody, superuser included, adds, edits or deletes them here."""

    show_full_result_count = False
    # A filter's counts are a COUNT per choice over the whole table (ten million refunds).
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator
    list_per_page = LIST_PER_PAGE
    # The site's dash, set here: Django looks for it on the admin first, for every cell of
    # a list, and without it on the admin catches an AttributeError each time.
    empty_value_display = admin.AdminSite.empty_value_display
    # The fields the list's columns read (`QuerySet.only`), paths through
    # `list_select_related` included; empty: every column of every table joined.
    list_only: Sequence[str] = ()

    def get_changelist(self, request, **kwargs):
        return BackOfficeChangeList

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.options.InlineModelAdmin):
    """An inline that only shows: nothing is added, edited or deleted through it."""

    extra = 0
    max_num = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyTabularInline(ReadOnlyInline, admin.TabularInline):
    pass


class ReadOnlyStackedInline(ReadOnlyInline, admin.StackedInline):
    pass


# localflavor's choices are a lazy tuple sorted by translated name again on every read:
# a state column shown through them sorted ~60 names per row (0.7 s for a page of 100).
STATE_NAMES = dict(STATE_CHOICES)


@lru_cache
def _state_names(language: str | None) -> dict[str, str]:
    """The names in `language`, the active one (read by `str`; here the cache's key)."""
    return {code: str(name) for code, name in STATE_NAMES.items()}


def state_names() -> dict[str, str]:
    """`STATE_NAMES` in the active language, translated once."""
    return _state_names(get_language())


def state_name(code: str) -> str:
    """A US state's name for a list column, from a code (`TX` -> Texas)."""
    return state_names().get(code, code)


# Stands for a state's code in the one query string the state filter makes.
STATE_CODE = "__state__"


class StateListFilter(admin.ChoicesFieldListFilter):
    """A filter by US state, its choices read once (`STATE_NAMES`), not sorted again for
    every list page as the field's own choices are. Its sixty links differ only in the
    state's code: one query string is made and the code put in (Django makes each from
    all of the list's parameters)."""

    def choices(self, changelist):
        yield {
            "selected": self.lookup_val is None,
            "query_string": changelist.get_query_string(
                remove=[self.lookup_kwarg, self.lookup_kwarg_isnull]
            ),
            "display": _("All"),
        }
        each = changelist.get_query_string(
            {self.lookup_kwarg: STATE_CODE}, [self.lookup_kwarg_isnull]
        )
        # The parameter itself: in another parameter's value "=" would be quoted.
        before, _code, after = each.partition(f"{self.lookup_kwarg}={STATE_CODE}")
        for code, name in state_names().items():
            yield {
                "selected": self.lookup_val is not None and code in self.lookup_val,
                "query_string": f"{before}{self.lookup_kwarg}={code}{after}",
                "display": name,
            }


@lru_cache(maxsize=128)
def _around_id(url_name: str, urlconf: str, script_prefix: str) -> tuple[str, str]:
    """The URL before and after the id; `reverse` reads the script prefix itself (here
    the cache's key)."""
    before, _, after = reverse(url_name, args=[ROW_ID], urlconf=urlconf).rpartition(ROW_ID)
    return before, after


def change_url(url_name: str, pk) -> str:
    """`reverse(url_name, args=[pk])` for a record's page: reversed once per page name
    (URLconf and script prefix), since only the id differs from one record to the next."""
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    before, after = _around_id(url_name, urlconf, get_script_prefix())
    return before + url_quote(str(pk), safe=URL_SAFE) + after


def link(url_name, pk, text=""):
    return format_html('<a href="{}">{}</a>', change_url(url_name, pk), text or f"#{pk}")


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return business_datetime(value)
    return value


def table(headers, rows, empty="None"):
    """A small read-only HTML table for a change page; `rows` hold plain values."""
    rows = [tuple(_cell(value) for value in row) for row in rows]
    if not rows:
        return empty
    head = format_html_join("", "<th>{}</th>", ((header,) for header in headers))
    body = format_html_join("", "<tr>" + "<td>{}</td>" * len(headers) + "</tr>", rows)
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)


def audit_history(obj):
    """Who did what to `obj`, when and why (SPEC §3: every transition records it)."""
    events = AuditEvent.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))
    keyring = KeyRing()
    rows = [
        (
            event.occurred_at,
            event.actor_label,
            AuditAction.words(event.action),
            keyring.open(event.reason),
        )
        for event in events
    ]
    return table(["When", "Who", "What", "Why"], rows)


def action_page(model_admin, request, *, title, form, objects, cancel_url, hidden=(), submit):
    """The intermediate page of a button or a bulk action: the records it acts on, the
    form to fill in, and, for bulk actions, the selection carried along."""
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": model_admin.model._meta,
        "form": form,
        "objects": objects,
        "hidden": hidden,
        "cancel_url": cancel_url,
        "submit_label": submit,
        "media": model_admin.media + form.media,
    }
    return TemplateResponse(request, "admin/backoffice/action_form.html", context)


def language_words(holder) -> str:
    """Rule B5: the language a holder reads pages and emails in, as staff read it."""
    return holder.language or "not chosen (English)"


def posted(request):
    """A button page's form data, once the form was sent (not on the first visit)."""
    return request.POST if "apply" in request.POST else None


def form_action(model_admin, request, *, form, run, title, objects, back, submit=None):
    """A button's page with a form: once the form is valid, `run(cleaned_data)` makes the
    move and returns (message, where to go next); a refusal is shown on the form in plain
    words and nothing changes (SPEC §3). The caller checks the permission first."""
    if form.is_bound and form.is_valid():
        try:
            message, next_url = run(form.cleaned_data)
        except Refused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, message)
            return redirect(next_url)
    return action_page(
        model_admin,
        request,
        title=title,
        form=form,
        objects=objects,
        cancel_url=back,
        submit=submit or title,
    )


def bulk_hidden(request, queryset):
    """The hidden fields that bring a bulk action's selection back to the action."""
    return [("action", request.POST["action"])] + [
        (helpers.ACTION_CHECKBOX_NAME, pk) for pk in queryset.values_list("pk", flat=True)
    ]


def apply_to_each(request, items, act, done_message) -> None:
    """A bulk action's work: `act(item)` on each selected record; each refusal (a
    `Refused`: that record is unchanged) is shown in plain words and the rest go on;
    then `done_message`, formatted with `done` and `total`, if any were done."""
    items = list(items)
    done = 0
    for item in items:
        try:
            act(item)
        except Refused as exc:
            messages.error(request, str(exc))
        else:
            done += 1
    if done:
        messages.success(request, done_message.format(done=done, total=len(items)))
