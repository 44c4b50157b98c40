"""Database helpers every app shares: one way to lock a row, one way to sweep rows, one
way to write many rows fast."""

import datetime as dt
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Field, Model, QuerySet

from .fields import CentsField

M = TypeVar("M", bound=Model)
R = TypeVar("R")

# Rows a bulk sweep claims and acts on in one transaction. A batch costs some thirty
# queries whatever its size (at ten million refunds about a tenth of a 500-row batch's
# time); a holder closing their own account meanwhile waits for the batch's commit,
# about a second.
BATCH_SIZE = 1000


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


# From this many rows on, COPY: below, one INSERT ... RETURNING is one round trip where
# COPY takes two (the ids, then the rows); a holder's own closure writes one row a table.
COPY_FROM = 10


def bulk_insert(objs: Sequence[M]) -> list[M]:
    """Insert new rows of one model, as `bulk_create` does (every field's `pre_save` and
    database preparation, the ids set on the instances), and return them.

    On PostgreSQL, from COPY_FROM rows on, the ids are taken from the table's sequence
    first (unless given) and the rows go in by `COPY ... FROM STDIN`: the sweeps write
    thousands of rows per batch, and binding them into an INSERT on the client cost more
    than the database's work. COPY fires the same triggers and checks the same
    constraints as INSERT."""
    connection = connections[DEFAULT_DB_ALIAS]
    objs = list(objs)
    if not objs:
        return objs
    model = type(objs[0])
    if connection.vendor != "postgresql" or len(objs) < COPY_FROM:
        return model._default_manager.bulk_create(objs)
    meta = model._meta
    fields = meta.concrete_fields
    as_is = {field.attname: _kept_as_is(field) for field in fields}

    def prepared(field, obj):
        value = obj.__dict__.get(field.attname)
        kept = as_is[field.attname]
        naive = isinstance(value, dt.datetime) and value.tzinfo is None
        if kept is not None and (value is None or type(value) is kept) and not naive:
            return value
        return field.get_db_prep_save(field.pre_save(obj, True), connection)

    missing = [obj for obj in objs if obj.pk is None]
    with connection.cursor() as cursor:
        if missing:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, meta.pk.column, len(missing)],
            )
            for obj, (pk,) in zip(missing, cursor.fetchall(), strict=True):
                obj.pk = pk
        quote = connection.ops.quote_name
        columns = ", ".join(quote(str(field.column)) for field in fields)
        statement = f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN"
        started = time.monotonic()
        # Django's own errors (IntegrityError ...), as from any query.
        with connection.wrap_database_errors, cursor.cursor.copy(statement) as copy:
            for obj in objs:
                copy.write_row([prepared(field, obj) for field in fields])
        if connection.queries_logged:  # counted like any query (DEBUG, assertNumQueries)
            took = f"{time.monotonic() - started:.3f}"
            connection.queries_log.append({"sql": f"{statement} ({len(objs)} rows)", "time": took})
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
    return objs


# Django's own fields whose preparation for PostgreSQL leaves a value of this exact type as
# it is (a naive datetime is not: Django warns and makes it aware). A foreign key goes by
# the field it points to.
_AS_IS_TYPES = {
    "AutoField": int,
    "BigAutoField": int,
    "BigIntegerField": int,
    "BooleanField": bool,
    "CharField": str,
    "DateField": dt.date,
    "DateTimeField": dt.datetime,
    "EmailField": str,
    "IntegerField": int,
    "PositiveIntegerField": int,
    "PositiveSmallIntegerField": int,
    "SmallIntegerField": int,
    "TextField": str,
}


def _kept_as_is(field: Field) -> type | None:
    """The type of value `bulk_insert` may copy into `field`'s column unprepared, if any."""
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return None
    if not (type(field).__module__.startswith("django.db.models") or type(field) is CentsField):
        return None
    if field.is_relation:
        target = field.target_field  # type: ignore[attr-defined]
        return _AS_IS_TYPES.get(target.get_internal_type()) if target.primary_key else None
    return _AS_IS_TYPES.get(field.get_internal_type())


def int_array(values) -> str:
    """Integers as one PostgreSQL array literal (`'{1,2,3}'`), bound as a single parameter
    and cast in the SQL (`%s::bigint[]`): a list of hundreds of ids costs the client one
    string instead of a placeholder per id."""
    return "{" + ",".join(str(int(value)) for value in values) + "}"
