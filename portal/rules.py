"""The portal's rules, each with an id, one line in plain words and the function that
implements it: the registry `docs/rules.md` is generated from (`make rules`).

Code and tests cite a rule by its id in a comment or docstring (`# rule E4: ...`,
`Rules N1-N3: ...`); `portal.rule_citations` reads those citations and
`tests/test_rules.py` fails when an implemented rule has no test citing it, when
anything cites an id that is not here, or when `docs/rules.md` is out of date.

Ids: D (Delete Account), E (effects of a closure), N (New Mexico inactivity), B (beyond
the minimum) and S for the sections without numbered rules: `S0` (words), `S1` (the way
to Delete Account), `S3` (refund and check moves), `S4` (final statements) and the parts
of section 5 (`S5.own`, `S5.roles`, `S5.audit`, `S5.exports`). A section cited as a
whole (`SPEC §5`) counts for each rule in it.
"""

from dataclasses import dataclass
from enum import Enum


class Status(str, Enum):
    IMPLEMENTED = "implemented"
    PLANNED = "planned"


@dataclass(frozen=True)
class Rule:
    id: str
    section: int
    title: str
    summary: str
    # Dotted path of the function that implements the rule; None while planned.
    implemented_by: str | None
    status: Status = Status.IMPLEMENTED


SECTIONS = {
    0: "Words",
    1: "Delete Account, started by the holder",
    2: "New Mexico: closing inactive accounts",
    3: "Refunds and checks, for staff",
    4: "Direct Bill final statements, for staff",
    5: "Staff, auditors, audit trail",
    6: "Beyond the minimum",
}

RULES = (
    Rule(
        "S0",
        0,
        "Business days and time",
        "Business days skip weekends and Federal Reserve holidays and are counted in the "
        "business time zone; times are stored in UTC, money in cents.",
        "portal.business_calendar.add_business_days",
    ),
    Rule(
        "S1",
        1,
        "The way to Delete Account",
        "Delete Account sits under My Settings → Security, a few short pages with Back and "
        "Cancel that work on a phone and with the keyboard alone.",
        "accounts.views.settings_security",
    ),
    Rule(
        "D1",
        1,
        "Review",
        "Before anything happens the holder sees, service by service, what will happen to "
        "their money: the refund, its method and date, and what is not refunded.",
        "refunds.services.closure.closure_plan",
    ),
    Rule(
        "D2",
        1,
        "Verify the address",
        "The holder confirms or corrects the mailing address (checked and put in USPS "
        "style) before confirming; the closure keeps the address and when it was confirmed.",
        "refunds.views.address",
    ),
    Rule(
        "D3",
        1,
        "VideoConnect warning",
        "With future video sessions or a subscription, the holder sees each one, learns they "
        "are voided without refund, and must say so explicitly to go on.",
        "refunds.views.video",
    ),
    Rule(
        "D4",
        1,
        "Not refundable",
        "Securus Debit and eMessaging stamps are shown with their amounts as staying with "
        "the incarcerated person or forfeited.",
        "refunds.views.not_refundable",
    ),
    Rule(
        "D5",
        1,
        "Confirm",
        "Confirming asks for a recent password or MFA check; repeated or replayed "
        "submissions return the one closure already made.",
        "refunds.services.closure.closure_confirm",
    ),
    Rule(
        "D6",
        1,
        "Done",
        "The last page gives the closure reference, what happens next and by when, says an "
        "email went out, and signs the holder out.",
        "refunds.views.done",
    ),
    Rule(
        "E1",
        1,
        "Account closed",
        "The closed account cannot sign in, its other sessions end and its balance pays for "
        "no more calls.",
        "refunds.services.closure._close_account",
    ),
    Rule(
        "E2",
        1,
        "Top-ups stop",
        "TextPay and AutoPay end at the moment of closure, with the time recorded.",
        "refunds.services.closure._end_services",
    ),
    Rule(
        "E3",
        1,
        "Unsettled calls first",
        "Every call charge not yet settled is taken from the balance before the refund is "
        "worked out; a shortfall is noted, never charged.",
        "refunds.services.closure._settle_and_refund",
    ),
    Rule(
        "E4",
        1,
        "Refund by the last deposit's method",
        "The remaining balance goes back to the card within 3 business days when the last "
        "deposit was an online card payment, otherwise by check mailed within 21 days.",
        "refunds.services.closure.refund_plan_for",
    ),
    Rule(
        "E5",
        1,
        "Direct Bill hold and final statement",
        "Direct Bill waits 7 to 10 days for late charges, then gets a final statement due "
        "in 20 days or closes with nothing owed; the holder hears either way.",
        "refunds.services.statements.final_statement_issue",
    ),
    Rule(
        "E6",
        1,
        "Securus Debit untouched",
        "Money deposited for the incarcerated person is recorded and left where it is.",
        "refunds.services.closure.closure_confirm",
    ),
    Rule(
        "E7",
        1,
        "Stamps forfeited",
        "Remaining eMessaging stamps are forfeited and their count recorded.",
        "refunds.services.closure._end_services",
    ),
    Rule(
        "E8",
        1,
        "VideoConnect voided",
        "Future video sessions are voided and subscriptions cancelled, without refund, and "
        "what was voided is recorded.",
        "refunds.services.closure._end_services",
    ),
    Rule(
        "E9",
        1,
        "Audited, and the holder emailed",
        "Every effect lands in the audit trail and a confirmation email is sent after "
        "commit; a failed email is retried and never undoes the closure.",
        "refunds.tasks.closure_confirmation_send",
    ),
    Rule(
        "N1",
        2,
        "Which accounts",
        "Only New Mexico accounts are closed for inactivity, and no inactivity before "
        "1 May 2023 counts.",
        "refunds.services.inactivity.inactivity_closes_on",
    ),
    Rule(
        "N2",
        2,
        "What counts as activity",
        "A deposit, a charge, a sign-in, a refund request or a contact with support restarts "
        "the 180 days; nothing else does.",
        "accounts.services.account_record_activity",
    ),
    Rule(
        "N3",
        2,
        "Notices, then closure",
        "The holder is told 30 and 7 days ahead, can keep the account open, and is never "
        "closed without a notice at least 7 days old; the closure is the usual one.",
        "refunds.services.inactivity.inactivity_schedule",
    ),
    Rule(
        "N4",
        2,
        "Held funds",
        "Money that cannot reach the holder is held, with amount, date and reason, until "
        "staff record its final disposition.",
        "refunds.services.held_funds.held_funds_from_refund",
    ),
    Rule(
        "N5",
        2,
        "Claiming held funds",
        "Until then the holder can ask for the money, which makes a new refund and counts "
        "as activity.",
        "refunds.services.held_funds.held_funds_claim",
    ),
    Rule(
        "N6",
        2,
        "The daily sweep",
        "The inactivity sweep runs daily, closes exactly the accounts that are due, and is "
        "safe to run twice or on two workers at once.",
        "refunds.services.inactivity.inactive_accounts_close",
    ),
    Rule(
        "S3",
        3,
        "Refund and check moves",
        "Card refunds and checks move only along their allowed steps, each recording who, "
        "when and why; amounts never change, overdue and stale ones are flagged.",
        "refunds.services.transitions._move",
    ),
    Rule(
        "S4",
        4,
        "Final statement moves",
        "Staff record payments on final statements, which become paid, partly paid, past "
        "due after their due date, or written off with a reason.",
        "refunds.services.statements.statement_record_payment",
    ),
    Rule(
        "S5.own",
        5,
        "A holder sees only their own account",
        "Every holder page and download is limited to the signed-in holder's own account.",
        "accounts.selectors.account_for_holder",
    ),
    Rule(
        "S5.roles",
        5,
        "Staff roles",
        "Support finds and notes, Refund operations move money, Auditors read and export; "
        "each gets only those permissions and signs in with MFA.",
        "refunds.roles.roles_sync",
    ),
    Rule(
        "S5.audit",
        5,
        "Audit trail",
        "Every change appends a keyed, chained entry nobody can edit, and a command shows "
        "any rewritten, recomputed or missing entries.",
        "portal.audit.audit_record",
    ),
    Rule(
        "S5.exports",
        5,
        "Exports",
        "Auditors download records for a date range as CSV or XLSX in constant memory at any "
        "size (big ones written in the background), and each download is itself recorded.",
        "refunds.exporters.base.export_record",
    ),
    Rule(
        "B1",
        6,
        "Records before you go",
        "Before closing, the holder can download their deposits, calls, refunds and "
        "statements as CSV.",
        "refunds.selectors.holder_records",
    ),
    Rule(
        "B2",
        6,
        "Refund status without signing in",
        "With the closure reference, ZIP code and last name a former holder sees where the "
        "refund is; lookups are rate-limited and a miss reveals nothing.",
        "refunds.selectors.closure_for_status_lookup",
    ),
    Rule(
        "B3",
        6,
        "New address for a returned check",
        "A returned check can go to a new, verified address; given without signing in it "
        "waits for the holder's emailed link or staff approval after a call.",
        "refunds.services.claims.address_change_request_create",
    ),
    Rule(
        "B4",
        6,
        "No fees",
        "A refund is the whole remaining balance; no fee is ever taken from it.",
        "refunds.services.closure._settle_and_refund",
    ),
    Rule(
        "B5",
        6,
        "Spanish",
        "Every page and email a holder reads exists in English and Spanish, and the "
        "holder's choice is kept.",
        "accounts.services.user_language_set",
    ),
    Rule(
        "B6",
        6,
        "Notice before escheat",
        "The owner is mailed a notice before held funds or a stale check are reported to a "
        "state, and the report lists each owner's money.",
        "refunds.services.held_funds.held_funds_record_owner_notice",
    ),
    Rule(
        "B7",
        6,
        "Erasure",
        "Once the money is final, the sign-in identity and later the names and addresses "
        "are erased, leaving amounts, dates and references.",
        "refunds.services.erasure._erase",
    ),
    Rule(
        "B8",
        6,
        "Bank files",
        "Checks are reported to the bank in its own formats (Positive Pay out, BAI2 paid "
        "items in) and unclaimed property in the NAUPA format.",
        "refunds.services.bank_files.bank_file_import",
    ),
)

RULES_BY_ID = {rule.id: rule for rule in RULES}
