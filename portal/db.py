"""Database helpers every app shares: one way to lock a row, one way to sweep rows."""

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)
R = TypeVar("R")


def locked(rows: type[M] | QuerySet[M], **lookup: Any) -> M:
    """The one row of `rows` (a model or a queryset, e.g. with its `select_related`) that
    matches `lookup`, read again under `SELECT ... FOR UPDATE` of that row alone. Call it
    inside the transaction of the change: whoever comes second waits, then reads what the
    first one saved."""
    queryset = rows._default_manager.all() if isinstance(rows, type) else rows
    return queryset.select_for_update(of=("self",)).get(**lookup)


def for_each_locked(queryset: QuerySet[M], act: Callable[[M], R]) -> list[R]:
    """Run `act(row)` on each row of `queryset`, each in its own transaction with the
    row locked and `queryset`'s conditions checked again under the lock. Rows another
    worker holds are skipped, not waited for, so two runs at once never act twice."""
    done = []
    for pk in list(queryset.values_list("pk", flat=True)):
        with transaction.atomic():
            row = queryset.select_for_update(skip_locked=True, of=("self",)).filter(pk=pk).first()
            if row is not None:
                done.append(act(row))
    return done
