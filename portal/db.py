"""Database helpers every app shares: one way to lock a row, one way to sweep rows."""

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)
R = TypeVar("R")

# Rows a bulk sweep claims and acts on in one transaction.
BATCH_SIZE = 500


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


def for_each_batch_locked(
    queryset: QuerySet[M], act_batch: Callable[[list[M]], Sequence[R]], *, size: int = BATCH_SIZE
) -> list[R]:
    """Run `act_batch(rows)` on `queryset` up to `size` rows at a time, each batch in its
    own transaction with its rows locked (`FOR UPDATE SKIP LOCKED`) and `queryset`'s
    conditions checked again under the lock; returns what the batches returned, in order.

    Rows another worker holds are skipped, so two runs at once share the rows and never
    act twice on one. Batches go up the primary key: a row a batch leaves as it is (not
    due yet) is not claimed again in the same run."""
    done: list[R] = []
    claim = queryset.select_for_update(skip_locked=True, of=("self",)).order_by("pk")
    after = None
    while True:
        with transaction.atomic():
            batch = claim if after is None else claim.filter(pk__gt=after)
            rows = list(batch[:size])
            if not rows:
                return done
            after = rows[-1].pk
            done.extend(act_batch(rows))
