"""The unclaimed property report in the NAUPA standard electronic format (rules B6, B8).

Followed: the NAUPA Standard Electronic File Format ("NAUPA II", adopted July 2002,
revised 2010 and 2013, published by the National Association of Unclaimed Property
Administrators): fixed-width ASCII records of 625 characters separated by CR/LF, the
record type (TR-CODE) in column 1 ("1" holder, "2" property, "9" summary), numeric
fields right-justified and zero-filled with implied decimals, character fields
left-justified and space-filled, dates CCYYMMDD. Property type codes from the NAUPA
code list: MS16 "Miscellaneous outstanding checks" for an uncashed refund check, MS09
"Credit balances" for a refund that could not be paid (held funds).

Only the fields below are filled; the columns of every other NAUPA field are spaces.
The field positions are kept here as data so that they can be checked against, and
moved to, the receiving state's copy of the specification without touching the code.
"""

from .layouts import Field, Layout

RECORD_LENGTH = 625
SOURCE = "NAUPA Standard Electronic File Format (NAUPA II)"

# What a NAUPA name field may hold: "A-Z / 0-9 / Space / &", no punctuation at all.
NAME_CHARACTERS = "A-Z0-9 &"

# Property type codes (NAUPA code list).
UNCASHED_CHECK = "MS16"
CREDIT_BALANCE = "MS09"

HOLDER = Layout(
    key="naupa_holder",
    label="NAUPA holder record",
    kind="fixed",
    record_length=RECORD_LENGTH,
    source=SOURCE,
    fields=(
        Field("TRCODE", start=1, width=1, value="1"),
        Field("HOLDER_TAX_ID", start=2, width=9),
        Field("HOLDER_REPORT_YEAR", start=15, width=4, justify="right", pad="0"),
        Field("HOLDER_REPORT_NUMBER", start=19, width=2, justify="right", pad="0"),
        Field("HOLDER_NAME", start=21, width=40, upper=True, allowed=NAME_CHARACTERS),
        Field("HOLDER_CITY", start=61, width=30, upper=True),
        Field("HOLDER_STATE", start=121, width=2),
        Field("HOLDER_CONTACT_NAME", start=123, width=40, upper=True),
        Field("HOLDER_CONTACT_ADDRESS_1", start=163, width=30, upper=True),
        Field("HOLDER_CONTACT_CITY", start=223, width=30, upper=True),
        Field("HOLDER_CONTACT_STATE", start=253, width=2),
        Field("HOLDER_CONTACT_ZIP", start=255, width=9),
        Field("HOLDER_CONTACT_PHONE", start=264, width=10),
    ),
)

PROPERTY = Layout(
    key="naupa_property",
    label="NAUPA property record",
    kind="fixed",
    record_length=RECORD_LENGTH,
    source=SOURCE,
    fields=(
        Field("TRCODE", start=1, width=1, value="2"),
        Field("PROP_SEQUENCE_NUMBER", start=2, width=6, justify="right", pad="0"),
        Field("PROP_OWNER_NAME_LAST", start=8, width=30, upper=True, allowed=NAME_CHARACTERS),
        Field("PROP_OWNER_NAME_FIRST", start=38, width=20, upper=True, allowed=NAME_CHARACTERS),
        Field("PROP_OWNER_ADDRESS_1", start=98, width=30, upper=True),
        Field("PROP_OWNER_ADDRESS_2", start=128, width=30, upper=True),
        Field("PROP_OWNER_CITY", start=188, width=30, upper=True),
        Field("PROP_OWNER_STATE", start=248, width=2),
        Field("PROP_OWNER_ZIP", start=250, width=9),
        Field("PROP_DATE_OF_LAST_CONTACT", start=270, width=8, date_format="%Y%m%d"),
        Field("PROP_TYPE", start=278, width=4),
        Field(
            "PROP_AMOUNT_REPORTED",
            start=282,
            width=10,
            justify="right",
            pad="0",
            implied_decimals=2,
        ),
        Field(
            "PROP_AMOUNT_REMITTED",
            start=292,
            width=10,
            justify="right",
            pad="0",
            implied_decimals=2,
        ),
        Field("PROP_ACCOUNT_NUMBER", start=302, width=20),
        Field("PROP_CHECK_NUMBER", start=322, width=20),
    ),
)

SUMMARY = Layout(
    key="naupa_summary",
    label="NAUPA summary record",
    kind="fixed",
    record_length=RECORD_LENGTH,
    source=SOURCE,
    fields=(
        Field("TRCODE", start=1, width=1, value="9"),
        Field("SUMM_NUMBER_OF_RECORDS", start=2, width=6, justify="right", pad="0"),
        Field(
            "SUMM_AMOUNT_REPORTED",
            start=8,
            width=12,
            justify="right",
            pad="0",
            implied_decimals=2,
        ),
        Field(
            "SUMM_AMOUNT_REMITTED",
            start=20,
            width=12,
            justify="right",
            pad="0",
            implied_decimals=2,
        ),
    ),
)
