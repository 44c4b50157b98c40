"""Record layouts as data, and the one writer that fills them in.

A `Field` says where a value goes and how it is written: its start (1-based column) and
width in a fixed-width record, its padding and justification, implied decimals for
money (integer cents written without a point), a date format, or a fixed value. A
`Layout` is a list of fields and whether records are fixed width or CSV. Text is folded
to plain ASCII (banks and states take nothing else: `José` → `JOSE`).
"""

import csv
import datetime as dt
import io
import re
import unicodedata
from dataclasses import dataclass, field


class LayoutError(Exception):
    """A value does not fit its field (e.g. an amount wider than the bank allows)."""


@dataclass(frozen=True)
class Field:
    name: str
    start: int = 0
    width: int = 0
    justify: str = "left"  # or "right"
    pad: str = " "
    implied_decimals: int | None = None  # money in cents written without a point
    decimals: int | None = None  # money written with a point: 42.50
    date_format: str = ""
    value: str | None = None  # the same in every record (a record code)
    choices: dict[str, str] = field(default_factory=dict)  # e.g. {"issue": "I", "void": "C"}
    upper: bool = False
    max_width: int = 0  # CSV: text cut to this many characters
    # The characters a format allows in the field, as a regular expression class
    # ("A-Z0-9 &"): see `allowed_text`.
    allowed: str = ""


@dataclass(frozen=True)
class Layout:
    key: str
    label: str
    kind: str  # "fixed" or "csv"
    fields: tuple[Field, ...]
    source: str  # the published description this layout follows
    record_length: int = 0
    line_ending: str = "\r\n"
    extension: str = "txt"

    def __post_init__(self):
        if self.kind == "fixed":
            taken: set[int] = set()
            for item in self.fields:
                columns = set(range(item.start, item.start + item.width))
                if not columns or taken & columns or max(columns) > self.record_length:
                    raise LayoutError(f"{self.key}: field {item.name} overlaps or overflows.")
                taken |= columns


def ascii_text(text: str) -> str:
    """Plain ASCII, accents dropped, control characters and line breaks as spaces."""
    folded = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return "".join(char if char.isprintable() else " " for char in folded)


def _money(cents: int, item: Field) -> str:
    if item.implied_decimals is not None:
        if item.implied_decimals != 2:
            raise LayoutError(f"{item.name}: money has 2 decimals.")
        return str(int(cents))
    whole, rest = divmod(int(cents), 100)
    return f"{whole}.{rest:02d}"


def cell(item: Field, values: dict) -> str:
    """One field's text, before padding."""
    if item.value is not None:
        return item.value
    raw = values.get(item.name, "")
    if item.choices:
        return item.choices[raw]
    if raw is None or raw == "":
        return ""
    if item.implied_decimals is not None or item.decimals is not None:
        return _money(raw, item)
    if isinstance(raw, dt.date):
        return raw.strftime(item.date_format)
    text = ascii_text(raw)
    text = text.upper() if item.upper else text
    text = allowed_text(text, item.allowed) if item.allowed else text
    return text[: item.max_width] if item.max_width else text


def allowed_text(text: str, allowed: str) -> str:
    """`text` in the characters `allowed`: apostrophes and periods dropped (O'BRIEN JR.
    → OBRIEN JR), any other character outside `allowed` a space (SMITH-JONES → SMITH
    JONES), and the spaces between words single."""
    text = re.sub(r"['.]", "", text)
    return " ".join(re.sub(f"[^{allowed}]", " ", text).split())


def fixed_record(fields, values: dict, record_length: int) -> str:
    """One fixed-width record: each field padded to its width at its start; the
    columns no field uses are spaces. Text longer than its field is cut; a number
    that does not fit is refused (cutting it would change an amount)."""
    record = [" "] * record_length
    for item in fields:
        text = cell(item, values)
        if len(text) > item.width:
            if item.justify == "right":
                raise LayoutError(f"{item.name} {text} is wider than {item.width} characters.")
            text = text[: item.width]
        text = text.rjust(item.width, item.pad) if item.justify == "right" else text
        text = text.ljust(item.width, item.pad)
        record[item.start - 1 : item.start - 1 + item.width] = text
    return "".join(record)


def render(layout: Layout, rows: list[dict]) -> str:
    """The whole file for `rows`, one record per row, each ending with the layout's
    line ending."""
    if layout.kind == "fixed":
        return "".join(
            fixed_record(layout.fields, row, layout.record_length) + layout.line_ending
            for row in rows
        )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=layout.line_ending)
    for row in rows:
        writer.writerow([cell(item, row) for item in layout.fields])
    return out.getvalue()
