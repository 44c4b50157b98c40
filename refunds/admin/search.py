"""The back office's search box at millions of rows: a term is read as the one kind of
code it looks like and goes to that column's index, instead of `icontains` over every
column (a full scan of each table).

- a closure reference (`cl-abcd-efgh`, `CLABCDEFGH`, `CL-AB`): exact, or prefix while
  incomplete, upper-cased as references are stored;
- digits: an exact check number if one exists, else an account number prefix;
- an email (has `@`): a case-insensitive prefix;
- anything else: every word in one name or payee (`icontains`: trigram GIN indexes on
  PostgreSQL, see refunds/migrations/0001 and 0003), or a single word as the start of an
  email. A holder's first and last names are searched as one text (`holder_name`), so
  every word of "Paul Okquez" is looked up in one index scan.

Each lookup filters one table, so PostgreSQL combines indexes with BitmapOr; an OR across
joined tables would scan them. On PostgreSQL the indexes are those of migrations 0001 and
0003 and the `_like` ones Django makes for unique text columns; SQLite gets the same
answers."""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce
from operator import and_, or_

from django.contrib.admin.utils import lookup_spawns_duplicates
from django.db.models import Model, Q, QuerySet, Value
from django.db.models.functions import Concat
from django.db.models.lookups import IContains

REFERENCE_TERM = re.compile(r"CL(?:-[A-Z0-9]{1,4}(?:-?[A-Z0-9]{0,4})|[A-Z0-9]{8})")
REFERENCE_LENGTH = len("CL-ABCD-EFGH")


def closure_reference_term(term: str) -> str | None:
    """A typed closure reference, in the stored form (`CL-ABCD-EFGH`) or the start of
    it; None if the term does not look like one."""
    upper = term.upper()
    if not REFERENCE_TERM.fullmatch(upper):
        return None
    chars = upper[2:].replace("-", "")
    return "CL-" + chars[:4] + (f"-{chars[4:]}" if len(chars) > 4 else "")


def _any(paths: Sequence[str], lookup: str, value: str) -> Q | None:
    return reduce(or_, (Q(**{f"{path}__{lookup}": value}) for path in paths), Q()) or None


def holder_name(path: str) -> Concat:
    """The first and last names of the user at `path`, as one text. Its upper case has a
    trigram index on PostgreSQL (refunds/migrations/0003 holds the SQL this compiles to)."""
    return Concat(f"{path}__first_name", Value(" "), f"{path}__last_name")


@dataclass(frozen=True)
class SearchPaths:
    """Where each kind of code is, as paths from the listed model."""

    references: Sequence[str] = ()
    check_numbers: Sequence[str] = ()
    account_numbers: Sequence[str] = ()
    emails: Sequence[str] = ()
    names: Sequence[str] = ()
    holders: Sequence[str] = ()  # users whose first and last names are searched as one

    def fields(self) -> list[str]:
        return [
            *self.references,
            *self.check_numbers,
            *self.account_numbers,
            *self.emails,
            *self.names,
            *(f"{path}__{name}" for path in self.holders for name in ("first_name", "last_name")),
        ]

    def spawn_duplicates(self, model: type[Model]) -> bool:
        return any(lookup_spawns_duplicates(model._meta, path) for path in self.fields())

    def q(self, queryset: QuerySet, term: str) -> Q | None:
        """The filter for `term` (stripped, not empty); None when it can match nothing."""
        reference = closure_reference_term(term)
        if reference is not None and self.references:
            lookup = "exact" if len(reference) == REFERENCE_LENGTH else "startswith"
            return _any(self.references, lookup, reference)
        if "@" in term:
            return _any(self.emails, "istartswith", term)
        if term.isdigit():
            check = _any(self.check_numbers, "exact", term)
            if check is not None and queryset.filter(check).exists():
                return check
            return _any(self.account_numbers, "startswith", term)
        return self._words(term)

    def _words(self, term: str) -> Q | None:
        """Every word in one name; a single word may also be the start of an email. The
        words of a name are looked up together, in one scan of that name's index (an OR
        with the emails for each word would have PostgreSQL scan for one word only)."""
        words = term.split()
        in_names: list[Q | None] = [
            *(reduce(and_, [Q(**{f"{path}__icontains": w}) for w in words]) for path in self.names),
            *(
                reduce(and_, [Q(IContains(holder_name(path), w)) for w in words])
                for path in self.holders
            ),
        ]
        if len(words) == 1:
            in_names.append(_any(self.emails, "istartswith", term))
        found = [q for q in in_names if q is not None]
        return reduce(or_, found) if found else None


class IndexedSearch:
    """A changelist searched through `search_paths` (see the module docstring)."""

    search_paths: SearchPaths
    model: type[Model]

    def get_search_fields(self, request):
        return self.search_paths.fields()

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        q = self.search_paths.q(queryset, term)
        if q is None:
            return queryset.none(), False
        return queryset.filter(q), self.search_paths.spawn_duplicates(self.model)
