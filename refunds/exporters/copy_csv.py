"""The CSV of an export on PostgreSQL, written by the database: `COPY (SELECT ...) TO
STDOUT WITH (FORMAT csv)` streamed through psycopg's copy (issue 13).

The SELECT formats every cell as the Python writer (`csv_chunks`, which stays for
SQLite and is the reference) does, so the bytes are the same: money in dollars with two
decimals, dates `YYYY-MM-DD`, times in UTC to the second, `yes`/`no`, and text defused
like `escape_formula`. Exports with JSON or sealed cells (the audit trail, the erasure
records) stay on the Python writer: `json.dumps` and the decryption have no SQL twin.
"""

import unicodedata
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any, cast

from django.db import connection, transaction
from django.db.backends.postgresql.operations import DatabaseOperations
from django.db.models import Case, F, Func, IntegerField, QuerySet, TextField, Value, When
from django.db.models.functions import Concat, NullIf
from django.db.models.lookups import In

from .base import CHUNK_SIZE, FORMULA_START, PROGRESS_EVERY, Exporter, Progress, csv_stream


@cache
def formula_test() -> tuple[list[int], str]:
    """What `escape_formula` defuses, for PostgreSQL: the code points a defused text
    may start with (the characters `_first_visible` skips, and those whose NFKC form
    starts with `= + - @`), a cheap first test, and a regular expression that matches
    exactly the defused texts: one of `= + - @ tab CR` first, or such a character past
    the skipped ones. Both sets come from Python's own Unicode tables, so the database
    decides as Python does whatever its Unicode version (computed once, about a second)."""
    skipped, formula = [], []
    for point in range(0x110000):
        char = chr(point)
        if unicodedata.category(char) == "Cs":
            continue
        if char.isspace() or unicodedata.category(char) == "Cf":
            skipped.append(char)
        elif unicodedata.normalize("NFKC", char)[:1] in FORMULA_START:
            formula.append(char)
    # `-` last in its bracket, so that it is itself and not a range.
    formula.sort(key=lambda char: char == "-")
    pattern = "^([\t\r]|[{}]*[{}])".format("".join(skipped), "".join(formula))
    return [ord(char) for char in skipped + formula], pattern


def _text(path: str) -> Any:
    """rule S5.exports: a formula is defused with a leading `'`; an empty text is
    written as NULL, which COPY leaves unquoted as Python's writer does. The regular
    expression runs only on the few texts whose first character may start one."""
    starts, pattern = formula_test()
    first = Func(F(path), function="ascii", output_field=IntegerField())
    return Case(
        When(In(first, starts), **{f"{path}__regex": pattern}, then=Concat(Value("'"), F(path))),
        default=NullIf(F(path), Value("")),
        output_field=TextField(),
    )


def _template(template: str) -> Callable[[str], Any]:
    return lambda path: Func(F(path), template=template, output_field=TextField())


SQL_CELL: dict[str, Callable[[str], Any]] = {
    "text": _text,
    "money": _template("CAST(%(expressions)s / 100.0 AS numeric(20, 2))"),
    "number": F,
    # Dates and times as they are, `YYYY-MM-DD` and `YYYY-MM-DD HH:MM:SS` in the ISO
    # DateStyle the COPY runs in: a third faster than to_char.
    "date": F,
    "datetime": _template("date_trunc('second', %(expressions)s AT TIME ZONE 'UTC')"),
    "bool": _template("CASE %(expressions)s WHEN true THEN 'yes' WHEN false THEN 'no' END"),
}


def copy_statement(exporter: Exporter, queryset: QuerySet[Any]) -> str:
    """The COPY statement of the export's rows, each column formatted by its kind."""
    cells = {f"cell_{i}": SQL_CELL[c.kind](c.path) for i, c in enumerate(exporter.columns)}
    rows = queryset.annotate(**cells).values_list(*cells)
    sql, params = rows.query.get_compiler(using=rows.db).as_sql()
    # COPY takes no bind parameters: the values are quoted into the statement.
    select = cast(DatabaseOperations, connection.ops).compose_sql(sql, params)
    return f"COPY ({select}) TO STDOUT WITH (FORMAT csv)"


def copy_csv_chunks(
    exporter: Exporter, queryset: QuerySet[Any], progress: Progress | None = None
) -> Iterator[bytes]:
    """The CSV in UTF-8: the byte order mark and the header from the Python writer,
    then the rows as COPY writes them, `CHUNK_SIZE` rows at a time. COPY sends one
    message per row, ending in `\\n`; the Python writer ends a row with `\\r\\n`.

    `progress(n)` is called after the chunk that brings `PROGRESS_EVERY` more rows,
    while the COPY still holds this connection in its transaction: it must report on a
    connection of its own."""
    yield "".join(csv_stream(exporter.headers(), [])).encode()
    statement = copy_statement(exporter, queryset)
    lines: list[Any] = []
    written = reported = 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL DateStyle TO ISO")
        with cursor.cursor.copy(statement) as copy:
            for row in copy:
                lines.append(row[:-1])
                if len(lines) == CHUNK_SIZE:
                    yield b"\r\n".join(lines) + b"\r\n"
                    written += len(lines)
                    lines.clear()
                    if progress is not None and written - reported >= PROGRESS_EVERY:
                        progress(written)
                        reported = written
    if lines:
        yield b"\r\n".join(lines) + b"\r\n"
