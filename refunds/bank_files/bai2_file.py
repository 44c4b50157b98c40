"""Reading the bank's paid-items file, BAI2 (rule B8), with the `bai2` package from PyPI.

Followed: the BAI Cash Management Balance Reporting Specifications, version 2 (as
summarised in the banks' "BAI2 File Format" guides): records 01 file header, 02 group
header (as-of date), 03 account identifier, 16 transaction detail, 88 continuation,
49 account trailer, 98 group trailer, 99 file trailer, each trailer with a control
total and a record count. A paid check is a 16 record with type code 475 "Check Paid":
the amount in cents and the check's serial number in the customer reference field.

The parser checks every control total and record count; anything it cannot read is
refused as a whole (`Bai2Refused`) in plain words.
"""

import datetime as dt
from dataclasses import dataclass

from bai2.bai2 import parse_from_string
from bai2.exceptions import IntegrityException, NotSupportedYetException, ParsingException

CHECK_PAID = "475"


class Bai2Refused(Exception):
    """The file is not a whole, consistent BAI2 file; nothing was read from it."""


@dataclass(frozen=True)
class PaidCheck:
    line: int  # in the file as received, from 1
    check_number: str
    amount_cents: int
    paid_on: dt.date


@dataclass(frozen=True)
class PaidItems:
    as_of_date: dt.date
    checks: list[PaidCheck]


def _details(parsed, detail_lines):
    """(line, group, account, detail) for each 16 record, in file order. The lines are
    counted on the text itself: the parser's own row lists are not reliable after it
    checked the record counts (it extends them in place)."""
    lines = iter(detail_lines)
    for group in parsed.children:
        for account in group.children:
            for detail in account.children:
                yield next(lines), group, account, detail


def _same_account(number: str, ours: str) -> bool:
    return number.lstrip("0") == ours.lstrip("0")


def parse_paid_checks(text: str, *, account_number: str) -> PaidItems:
    """The checks paid on `account_number` in the BAI2 file `text`."""
    if "\x00" in text:
        raise Bai2Refused("The file contains NUL bytes: it is not a BAI2 text file.")
    lines = [(number, line.strip()) for number, line in enumerate(text.splitlines(), start=1)]
    lines = [(number, line) for number, line in lines if line]
    if not lines or not lines[0][1].startswith("01,"):
        raise Bai2Refused("This is not a BAI2 file: it does not start with a 01 file header.")
    try:
        parsed = parse_from_string(text)
    except IntegrityException as exc:
        raise Bai2Refused(
            f"The file's control totals or record counts do not add up ({exc}). "
            "It may be truncated or altered; ask the bank to send it again."
        ) from exc
    except NotSupportedYetException as exc:
        raise Bai2Refused(f"Only BAI version 2 files are read ({exc}).") from exc
    except (ParsingException, ValueError, TypeError, KeyError, IndexError, RuntimeError) as exc:
        raise Bai2Refused(
            "The file is not a whole BAI2 file (it may be truncated, or another format): "
            f"{exc or type(exc).__name__}."
        ) from exc
    if not any(
        _same_account(account.header.customer_account_number, account_number)
        for group in parsed.children
        for account in group.children
    ):
        raise Bai2Refused(
            f"The file has no records for the refund account ending {account_number[-4:]}."
        )
    checks = [
        PaidCheck(
            line=line,
            check_number=(detail.customer_reference or "").strip(),
            amount_cents=int(detail.amount or 0),
            paid_on=group.header.as_of_date,
        )
        for line, group, account, detail in _details(
            parsed, [number for number, line in lines if line.startswith("16,")]
        )
        if _same_account(account.header.customer_account_number, account_number)
        and detail.type_code.code == CHECK_PAID
    ]
    return PaidItems(as_of_date=parsed.children[0].header.as_of_date, checks=checks)
