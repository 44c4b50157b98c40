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

from django.db import connection
from django.db.backends.postgresql.operations import DatabaseOperations
from django.db.models import F, Func, QuerySet, TextField, Value
from django.db.models.functions import NullIf

from .base import CHUNK_SIZE, FORMULA_START, Exporter, csv_stream


@cache
def formula_pattern() -> str:
    """A PostgreSQL regular expression that matches, at its start, exactly the text
    `escape_formula` defuses: one of `= + - @ tab CR` first, or, past the characters
    `_first_visible` skips, one whose NFKC form starts with `= + - @`. Both character
    sets are taken from Python's own Unicode tables, so the database decides as Python
    does whatever its Unicode version (computed once, about a second)."""
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
    return "^(?=[\t\r]|[{}]*[{}])".format("".join(skipped), "".join(formula))


def _text(path: str) -> Any:
    """rule S5.exports: a formula is defused with a leading `'`; an empty text is
    written as NULL, which COPY leaves unquoted as Python's writer does."""
    defused = Func(
        F(path),
        Value(formula_pattern()),
        Value("'"),
        function="regexp_replace",
        output_field=TextField(),
    )
    return NullIf(defused, Value(""), output_field=TextField())


def _template(template: str) -> Callable[[str], Any]:
    return lambda path: Func(F(path), template=template, output_field=TextField())


SQL_CELL: dict[str, Callable[[str], Any]] = {
    "text": _text,
    "money": _template("CAST(%(expressions)s / 100.0 AS numeric(20, 2))"),
    "number": F,
    "date": _template("to_char(%(expressions)s, 'YYYY-MM-DD')"),
    "datetime": _template("to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"),
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


def copy_csv_chunks(exporter: Exporter, queryset: QuerySet[Any]) -> Iterator[bytes]:
    """The CSV in UTF-8: the byte order mark and the header from the Python writer,
    then the rows as COPY writes them, `CHUNK_SIZE` rows at a time. COPY sends one
    message per row, ending in `\\n`; the Python writer ends a row with `\\r\\n`."""
    yield "".join(csv_stream(exporter.headers(), [])).encode()
    statement = copy_statement(exporter, queryset)
    lines: list[Any] = []
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in copy:
            lines.append(row[:-1])
            if len(lines) == CHUNK_SIZE:
                yield b"\r\n".join(lines) + b"\r\n"
                lines.clear()
    if lines:
        yield b"\r\n".join(lines) + b"\r\n"
