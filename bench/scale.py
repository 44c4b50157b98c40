"""The back office at scale for `make bench`: fill the tables `migrate` made with millions
of rows by set-based SQL (`INSERT ... SELECT generate_series`), PostgreSQL only.

Every number is a deterministic function of the row's id (`hashint8`), so a run is
repeatable and the search terms the bench types are read back from the rows. The shape:

- users and customer accounts, one each, `refunds / 2` closed plus a fifth as many open
  (names from 60 first names and 520 surnames, emails `first.last<id>@<domain>`, nine-digit
  account numbers, eight service states);
- a closure per closed account, closed over five years up to 25 days ago, references
  `CL-XXXX-XXXX` (the last character `0`, which new references never use, so a closure the
  bench makes cannot collide with a filled one); a tenth with Direct Bill and a final
  statement (plus one earlier monthly statement each; a third of the final ones paid);
- refunds in pairs of closures: one with a single refund (45% card: settled, submitted,
  pending; else a check: pending, issued, mailed, cashed, returned, void, stale or
  escheated, by age), one with a chain of three (card failed, its check reissued, the new
  check in any check status). Checks past pending have a number; payees are the holders.

The plain indexes of those tables (not those behind a constraint) are dropped before the
fill and made again after it from their own definitions, then ANALYZE: the same indexes
`migrate` made, built once instead of row by row.
"""

import datetime as dt
import time

FIRST_NAMES = (  # noqa: SIM905
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William "
    "Barbara Richard Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa "
    "Daniel Nancy Matthew Betty Anthony Sandra Mark Margaret Donald Ashley Steven "
    "Kimberly Andrew Emily Paul Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian "
    "Melissa Luis Maria Jose Ana Juan Carmen Carlos Rosa Darnell Imani Farid Grace Hector "
    "Elena"
).split()
_PREFIXES = (  # noqa: SIM905
    "Al Bar Cal Dom Ell Fer Gar Hal Ib Jen Kow Lar Mar Nak Ok Pet Quin Ram San Tor"
).split()
_SUFFIXES = (  # noqa: SIM905
    "ez son ski afor ani elli berg ov ton ura ida ley man ard ino sen quez o ett ow ford "
    "well ack ery ias is"
).split()
LAST_NAMES = [prefix + suffix for prefix in _PREFIXES for suffix in _SUFFIXES]
DOMAINS = ["example.com", "mail.test", "correo.test", "inbox.test", "post.test"]
STATES = ["TX", "TX", "TX", "GA", "CA", "AZ", "NM", "FL", "OH", "NY"]
STREETS = ["MAIN ST", "OAK AVE", "CEDAR LN", "MARTIN LUTHER KING JR BLVD", "2ND ST", "ELM ST"]
CITIES = ["HOUSTON", "EL PASO", "LAS CRUCES", "MACON", "FRESNO", "TUCSON", "AUSTIN"]
# References: 7 characters from a id-scrambling bijection, then "0" (see the docstring).
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
REFERENCE_SPACE = len(REFERENCE_ALPHABET) ** 7
REFERENCE_MULTIPLIER = 2654435761  # not a multiple of 31: x -> x * M mod 31^7 is one-to-one


def _reference_chars() -> str:
    """SQL for the 7 base-31 digits of x as `XXXX-XXX` (the `%` doubled for psycopg)."""
    chars = [
        f"substr('{REFERENCE_ALPHABET}', ((x / {31**k}) %% 31)::int + 1, 1)"
        for k in range(6, -1, -1)
    ]
    return " || ".join([*chars[:4], "'-'", *chars[4:]])


YEARS = 5
TABLES = [
    "accounts_user",
    "accounts_customeraccount",
    "accounts_directbill",
    "accounts_directbillstatement",
    "accounts_directbillpayment",
    "refunds_closure",
    "refunds_refund",
]

SETUP = r"""
CREATE FUNCTION pg_temp.h(n bigint, salt int) RETURNS int IMMUTABLE LANGUAGE sql
  AS $$ SELECT hashint8(n * 1000 + salt) & 2147483647 $$;
CREATE FUNCTION pg_temp.pick(a text[], n bigint, salt int) RETURNS text IMMUTABLE LANGUAGE sql
  AS $$ SELECT a[1 + pg_temp.h(n, salt) %% cardinality(a)] $$;
CREATE FUNCTION pg_temp.ref(c bigint) RETURNS text IMMUTABLE LANGUAGE sql AS $$
  SELECT 'CL-' || REF_CHARS || '0'
  FROM (SELECT (c * %(multiplier)s) %% %(space)s AS x) s $$;
-- closure c: closed at T0 + c/C of the span
CREATE FUNCTION pg_temp.closed_at(c bigint) RETURNS timestamptz IMMUTABLE LANGUAGE sql AS $$
  SELECT %(t0)s::timestamptz + make_interval(secs => %(span)s::float8 * c / %(closures)s) $$;
"""

USERS = """
INSERT INTO accounts_user (id, password, is_superuser, first_name, last_name, is_staff,
    is_active, date_joined, email, language)
SELECT u, '!', false, pg_temp.pick(%(first)s, u, 1), pg_temp.pick(%(last)s, u, 2), false, true,
    %(now)s::timestamptz - make_interval(days => 200 + pg_temp.h(u, 3) %% 1800),
    lower(pg_temp.pick(%(first)s, u, 1)) || '.' || lower(pg_temp.pick(%(last)s, u, 2)) || u
        || '@' || pg_temp.pick(%(domains)s, u, 4),
    CASE WHEN pg_temp.h(u, 5) %% 5 = 0 THEN 'es' ELSE '' END
FROM generate_series(1, %(accounts)s) u
"""

# Account a is user a's; accounts 1..C are closed (closure a), the rest open and active
# within the last 150 days (none is due for the inactivity sweep).
ACCOUNTS = """
INSERT INTO accounts_customeraccount (id, holder_id, number, status, service_state, time_zone,
    opened_at, closed_at, last_activity_at, last_activity_kind)
SELECT a, a, (100000000 + a)::text,
    CASE WHEN a <= %(closures)s THEN 'closed' ELSE 'open' END,
    pg_temp.pick(%(states)s, a, 6), 'America/Chicago',
    opened - make_interval(days => 100 + pg_temp.h(a, 7) %% 900),
    CASE WHEN a <= %(closures)s THEN opened END,
    CASE WHEN a <= %(closures)s THEN opened - make_interval(days => pg_temp.h(a, 8) %% 60)
         ELSE %(now)s::timestamptz - make_interval(days => pg_temp.h(a, 8) %% 150) END,
    'deposit'
FROM generate_series(1, %(accounts)s) a,
    LATERAL (SELECT CASE WHEN a <= %(closures)s THEN pg_temp.closed_at(a)
                         ELSE %(now)s::timestamptz END AS opened) o
"""

# Direct Bill for every tenth closed account: direct bill d is account 10d's.
DIRECT_BILLS = """
INSERT INTO accounts_directbill (id, account_id, billing_day, opened_at, closed_at)
SELECT d, 10 * d, 1 + d %% 28, pg_temp.closed_at(10 * d) - interval '400 days',
    pg_temp.closed_at(10 * d)
FROM generate_series(1, %(closures)s / 10) d
"""

# Statement d: direct bill d's final statement; statement D + d its monthly one before.
STATEMENTS = """
INSERT INTO accounts_directbillstatement (id, direct_bill_id, statement_date, amount_cents,
    due_date, is_final, status, created_at)
SELECT s, d, (at - make_interval(days => 30 * monthly))::date, 500 + pg_temp.h(s, 9) %% 6000,
    (at - make_interval(days => 30 * monthly))::date + 20, monthly = 0,
    CASE WHEN monthly = 1 THEN 'paid' ELSE (ARRAY['issued', 'paid', 'paid', 'past_due',
        'partially_paid', 'written_off'])[1 + pg_temp.h(s, 10) %% 6] END,
    at - make_interval(days => 30 * monthly)
FROM generate_series(1, %(closures)s / 10 * 2) s,
    LATERAL (SELECT (s - 1) / (%(closures)s / 10) AS monthly) m,
    LATERAL (SELECT s - monthly * (%(closures)s / 10) AS d) b,
    LATERAL (SELECT pg_temp.closed_at(10 * d) + interval '8 days' AS at) t
"""

PAYMENTS = """
INSERT INTO accounts_directbillpayment (id, statement_id, amount_cents, paid_at)
SELECT s.id, s.id, s.amount_cents, s.created_at + interval '10 days'
FROM accounts_directbillstatement s WHERE s.status IN ('paid', 'partially_paid')
"""

CLOSURES = """
INSERT INTO refunds_closure (id, account_id, reference, reason, closed_at,
    balance_before_cents, deducted_cents, shortfall_cents, refund_cents, top_ups_terminated,
    direct_bill_outcome, direct_bill_hold_from, direct_bill_hold_until, final_statement_id,
    debit_untouched_cents, stamps_forfeited, sessions_voided, subscriptions_cancelled,
    address_confirmed_at, confirmation_emailed_at)
SELECT c, c, pg_temp.ref(c),
    CASE WHEN pg_temp.h(c, 11) %% 10 = 0 THEN 'inactivity' ELSE 'holder_request' END,
    at, amount + 315, 315, 0, amount, '',
    CASE WHEN c %% 10 = 0 THEN 'final_statement' ELSE '' END,
    CASE WHEN c %% 10 = 0 THEN at::date + 7 END, CASE WHEN c %% 10 = 0 THEN at::date + 10 END,
    CASE WHEN c %% 10 = 0 THEN c / 10 END,
    0, 0, 0, 0, at, at
FROM generate_series(1, %(closures)s) c,
    LATERAL (SELECT pg_temp.closed_at(c) AS at, 1000 + pg_temp.h(c, 12) %% 9000 AS amount) v
"""

# Refunds 4p+1 .. 4p+4: closure 2p+1's single refund (k = 0), then closure 2p+2's chain
# (k = 1 card failed, k = 2 its check reissued, k = 3 the check now).
REFUNDS = """
INSERT INTO refunds_refund (id, closure_id, replaces_id, method, status, amount_cents,
    created_at, due_date, needs_review, status_changed_at, status_reason, card_brand,
    card_last4, card_token, processor_reference, payee_name, address_line1, address_line2,
    address_city, address_state, address_zip, check_number, issued_on, mailed_on, cleared_on,
    escheat_report_reference, submit_attempts, last_error)
SELECT r, c, CASE WHEN k >= 2 THEN r - 1 END, method, status, amount, created,
    created::date + 21, pg_temp.h(r, 13) %% 200 = 0, created + interval '2 days', '',
    CASE WHEN method = 'card' THEN 'Visa' ELSE '' END,
    CASE WHEN method = 'card' THEN lpad((pg_temp.h(r, 14) %% 10000)::text, 4, '0') ELSE '' END,
    CASE WHEN method = 'card' THEN 'tok_' || r ELSE '' END,
    CASE WHEN status IN ('submitted', 'settled') THEN 'ch_' || r ELSE '' END,
    CASE WHEN method = 'check' THEN
        pg_temp.pick(%(first)s, c, 1) || ' ' || pg_temp.pick(%(last)s, c, 2) ELSE '' END,
    (1 + pg_temp.h(r, 15) %% 9998)::text || ' ' || pg_temp.pick(%(streets)s, r, 16),
    CASE WHEN pg_temp.h(r, 17) %% 4 = 0 THEN 'APT ' || (1 + pg_temp.h(r, 18) %% 40) ELSE '' END,
    pg_temp.pick(%(cities)s, r, 19), pg_temp.pick(%(states)s, c, 6),
    lpad((70000 + pg_temp.h(r, 20) %% 29999)::text, 5, '0'),
    CASE WHEN method = 'check' AND status <> 'pending' THEN (1000000 + r)::text END,
    CASE WHEN method = 'check' AND status <> 'pending' THEN created::date + 2 END,
    CASE WHEN method = 'check' AND status NOT IN ('pending', 'issued') THEN created::date + 3
        END,
    CASE WHEN status = 'cashed' THEN created::date + 15 END,
    CASE WHEN status = 'escheated' THEN 'UP-' || r ELSE '' END, 0, ''
FROM generate_series(1, %(refunds)s) r,
    LATERAL (SELECT (r - 1) %% 4 AS k, 2 * ((r - 1) / 4) + CASE WHEN (r - 1) %% 4 = 0
        THEN 1 ELSE 2 END AS c) i,
    LATERAL (SELECT pg_temp.closed_at(c) + make_interval(days => (ARRAY[0, 0, 3, 20])[k + 1])
        AS created, 1000 + pg_temp.h(c, 12) %% 9000 AS amount,
        pg_temp.h(r, 21) %% 100 AS roll,
        c > %(closures)s * (1 - 200.0 / (365 * %(years)s)) AS recent) v,
    LATERAL (SELECT CASE WHEN k = 1 OR (k = 0 AND roll < 45) THEN 'card' ELSE 'check' END
        AS method) m,
    LATERAL (SELECT CASE
        WHEN k = 1 THEN 'failed'
        WHEN k = 2 THEN 'reissued'
        WHEN method = 'card' THEN CASE WHEN NOT recent OR roll < 38 THEN 'settled'
            WHEN roll < 42 THEN 'submitted' ELSE 'pending' END
        WHEN roll %% 20 = 0 THEN 'returned' WHEN roll %% 20 = 1 THEN 'void'
        WHEN NOT recent THEN (ARRAY['cashed', 'cashed', 'cashed', 'cashed', 'cashed', 'cashed',
            'stale', 'escheated'])[1 + roll %% 8]
        ELSE (ARRAY['pending', 'issued', 'mailed', 'mailed', 'mailed', 'cashed', 'cashed',
            'cashed'])[1 + roll %% 8] END AS status) s
"""

PLAIN_INDEXES = """
SELECT i.indexname, i.indexdef FROM pg_indexes i
WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                  WHERE c.conindid = (quote_ident(i.schemaname) || '.'
                                      || quote_ident(i.indexname))::regclass)
"""


def sizes(refunds: int) -> dict:
    closures = refunds // 4 * 2
    return {
        "refunds": closures * 2,
        "closures": closures,
        "accounts": closures + closures // 5,
        "statements": closures // 10 * 2,
    }


def fill_scale(refunds: int, now: dt.datetime) -> dict:
    """Fill the tables as the module docstring says; returns the counts and timings."""
    from django.db import connection, transaction

    size = sizes(refunds)
    params = {
        **size,
        "first": FIRST_NAMES,
        "last": LAST_NAMES,
        "domains": DOMAINS,
        "states": STATES,
        "streets": STREETS,
        "cities": CITIES,
        "now": now,
        "years": YEARS,
        "multiplier": REFERENCE_MULTIPLIER,
        "space": REFERENCE_SPACE,
        "t0": now - dt.timedelta(days=365 * YEARS + 25),
        "span": 365 * YEARS * 86400,
    }
    timings = {}
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute("SET max_parallel_maintenance_workers = 2")
        cursor.execute(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user",
        )
        superuser = cursor.fetchone()[0]
        cursor.execute(PLAIN_INDEXES, [TABLES])
        indexes = cursor.fetchall()
        with transaction.atomic():
            if superuser:  # the foreign keys are right by construction: not checked row by row
                cursor.execute("SET LOCAL session_replication_role = replica")
            for name, _definition in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
            for statement in SETUP.replace("REF_CHARS", _reference_chars()).split(";\n"):
                if statement.strip():
                    cursor.execute(statement, params)
            for name, sql in (
                ("users", USERS),
                ("accounts", ACCOUNTS),
                ("direct bills", DIRECT_BILLS),
                ("statements", STATEMENTS),
                ("payments", PAYMENTS),
                ("closures", CLOSURES),
                ("refunds", REFUNDS),
            ):
                started = time.perf_counter()
                cursor.execute(sql, params)
                timings[name] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        for _name, definition in indexes:
            cursor.execute(definition)
        timings["indexes"] = round(time.perf_counter() - started, 1)
        for table in TABLES:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"COALESCE((SELECT max(id) FROM {table}), 1))"
            )
        started = time.perf_counter()
        cursor.execute(f"VACUUM ANALYZE {', '.join(TABLES)}")
        timings["vacuum analyze"] = round(time.perf_counter() - started, 1)
        cursor.execute("SELECT pg_database_size(current_database())")
        database_bytes = cursor.fetchone()[0]
    return {
        **size,
        "indexes_rebuilt": len(indexes),
        "fk_checks_deferred": superuser,
        "seconds": timings,
        "database_gib": round(database_bytes / 2**30, 1),
    }
