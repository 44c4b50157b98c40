"""Positive Pay issue file layouts (rule B8). Each bank publishes its own; two ship:

- `fixed_100`: 100-character fixed-width records, after the Positive Pay export layout
  published by Ascender (help.ascendertx.com, "Positive Pay File Layout"): account number
  1-12 right-justified zero-filled; void indicator 13 ("2" for a void, blank for an
  issue); 14-15 blank; check (serial) number 16-25 right-justified zero-filled; amount
  26-37 zero-filled with 2 implied decimals; issue date 38-45 YYYYMMDD; 46 blank; payee
  name 47-100.
- `issue_void_csv`: comma-separated, no header, after JPMorgan Chase's Business Online
  Positive Pay upload layout (its "file upload guide", as summarised on
  positivepaymaker.com/formats.md): issue/void code (I, or C for a cancelled check),
  account number, check number, issue date MMDDYY, amount with a decimal point, payee
  name of at most 40 characters.

A new bank is one more `Layout` here, chosen by the `POSITIVE_PAY_LAYOUT` setting.
"""

from .layouts import Field, Layout

FIXED_100 = Layout(
    key="fixed_100",
    label="Fixed width, 100 characters (void indicator 2)",
    kind="fixed",
    record_length=100,
    source="Ascender Positive Pay File Layout (help.ascendertx.com)",
    fields=(
        Field("account_number", start=1, width=12, justify="right", pad="0"),
        Field("kind", start=13, width=1, choices={"issue": " ", "void": "2"}),
        Field("check_number", start=16, width=10, justify="right", pad="0"),
        Field("amount_cents", start=26, width=12, justify="right", pad="0", implied_decimals=2),
        Field("issued_on", start=38, width=8, date_format="%Y%m%d"),
        Field("payee_name", start=47, width=54, upper=True),
    ),
)

ISSUE_VOID_CSV = Layout(
    key="issue_void_csv",
    label="CSV, no header (I issue / C void)",
    kind="csv",
    extension="csv",
    source="JPMorgan Chase Business Online Positive Pay upload layout",
    fields=(
        Field("kind", choices={"issue": "I", "void": "C"}),
        Field("account_number"),
        Field("check_number"),
        Field("issued_on", date_format="%m%d%y"),
        Field("amount_cents", decimals=2),
        Field("payee_name", max_width=40),
    ),
)

POSITIVE_PAY_LAYOUTS = {layout.key: layout for layout in (FIXED_100, ISSUE_VOID_CSV)}
