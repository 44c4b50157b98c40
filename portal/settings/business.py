"""The business's numbers, each with the rule it comes from (rule ids as in the rules
list). Code reads them from `django.conf.settings`; templates from `RULES`
(`portal.context_processors`), so a page never says a number the code does not use.
Imported by `base.py`; a few can come from the environment."""

import datetime as dt

import environ

env = environ.Env()

# rule E3: unsettled calls from this many hours before the closure are deducted first.
RECENT_CALLS_HOURS = 24
# rule E4: a card refund is due within this many business days of the closure (the FAQ
# says 2-3).
CARD_REFUND_BUSINESS_DAYS = 3
# rule E4: a refund check is mailed within this many calendar days (the FAQ: 2-3 weeks).
CHECK_MAILED_WITHIN_DAYS = 21
# rule E5: Direct Bill is held 7 to 10 calendar days so unbilled calls clear.
DIRECT_BILL_HOLD_FROM_DAYS = 7
DIRECT_BILL_HOLD_UNTIL_DAYS = 10
# rule E5, SPEC §4: a final statement is due this many days after its date.
FINAL_STATEMENT_DUE_DAYS = 20
# rule E4 (SPEC §3): a card refund the processor cannot take now is tried again after 5
# minutes, then 3 times longer each time up to 6 hours, 8 tries in all; then staff review.
CARD_REFUND_MAX_ATTEMPTS = 8
CARD_REFUND_FIRST_RETRY_MINUTES = 5
CARD_REFUND_LONGEST_RETRY_HOURS = 6
# How long one attempt owns a card refund while the processor answers; a real processor
# client must give up well within it.
CARD_REFUND_SUBMIT_LEASE_MINUTES = 5
# rule E9: a holder email that keeps failing is tried this many times, then left to staff.
HOLDER_EMAIL_MAX_ATTEMPTS = 20

# rule N1: the states whose inactive accounts are closed, and the day the rule began
# (inactivity before it does not count).
INACTIVITY_STATES = ("NM",)
INACTIVITY_RULE_STARTS_ON = dt.date(2023, 5, 1)
# rule N2: days without activity before an account is inactive.
INACTIVITY_DAYS = 180
# rule N3: the notices' lead times, in days before the closure date; the first one also
# sets the earliest closure date (30 days after it left).
INACTIVITY_FIRST_NOTICE_DAYS = 30
INACTIVITY_FINAL_NOTICE_DAYS = 7

# SPEC §3: an uncashed refund check goes stale this many days after issue.
STALE_CHECK_DAYS = env.int("STALE_CHECK_DAYS", default=180)

# rule B2: lookups on the public refund status page, per client (ip) and per closure
# reference (key); the arithmetic is in refunds.public_views.refund_status.
REFUND_STATUS_RATE_LIMIT = "20/h/ip,50/d/ip,30/h/key,100/d/key"
# rule B3: new addresses asked for one closure a day (each one emails the holder).
REFUND_CLAIM_RATE_LIMIT = "5/d/key"
# rule B3: after a lookup, the browser may ask for a new check for this many minutes.
REFUND_CLAIM_WINDOW_MINUTES = 30
# rule B3: the emailed link that confirms a new address works for this many hours.
ADDRESS_CHANGE_LINK_VALID_HOURS = 72

# rule B6: per state, the owner notice is mailed between this many days before the
# unclaimed property report (earliest, latest), for amounts of at least these cents.
ESCHEAT_OWNER_NOTICE_WINDOWS = {"NM": {"min_days": 60, "max_days": 120, "min_cents": 5000}}

# SPEC §5 (issue 13): XLSX exports, and CSV exports of more rows than this, are written by a
# background task to a private file instead of inside the request; a smaller CSV streams at
# once.
EXPORT_CSV_BACKGROUND_ROWS = 200_000
# SPEC §5: an export's file can be downloaded by the auditor who asked for this many hours
# after it is ready; `purge_expired_exports` then deletes it.
EXPORT_FILE_EXPIRY_HOURS = 24
