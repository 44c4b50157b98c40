"""The New Mexico inactivity sweep at scale (rules N3, N6; issue 13), not part of the tests.

`fill_due_accounts(n, now)` adds `n` accounts due for closure at `now`;
`measure_inactivity_sweep(n)` fills them and times `inactive_accounts_close` with the
database tasks backend (as in production: the emails and card refunds are queued, not
sent inline). `make bench` imports both; on its own:

    BENCH_DATABASE_URL=postgres://... python bench/sweep.py [accounts] [--profile]

The database is migrated and filled: never point it at a database you keep. Without
BENCH_DATABASE_URL a temporary SQLite file is used.
"""

import cProfile
import datetime as dt
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ACCOUNTS = 10_000
TARGET_PER_SECOND = 1_000
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.backend.DatabaseBackend"}}


def django_setup(database_url):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.dev")
    os.environ["DATABASE_URL"] = database_url
    os.environ["DEBUG"] = "false"  # no query log kept in memory
    import django

    django.setup()


def fill_due_accounts(n: int, now: dt.datetime) -> list[int]:
    """`n` open New Mexico accounts due for closure at `now` (rule N3), in bulk inserts:
    inactive for 181 days, the first notice sent 31 days ago, an address on record and
    $10.00 to $59.99 on AdvanceConnect from one deposit (online card for a third of
    them, by mail for the rest). Returns the accounts' ids."""
    from accounts.models import (
        AdvanceConnect,
        CustomerAccount,
        LedgerEntry,
        MailingAddress,
        PurchaseMethod,
        User,
    )
    from portal.business_calendar import business_date
    from refunds.models import InactivityNotice

    inactive_since = now - dt.timedelta(days=181)
    sent_at = now - dt.timedelta(days=31)
    first = CustomerAccount.objects.count()  # numbers and emails new on every fill
    holders = User.objects.bulk_create(
        User(email=f"sweep{first + i}@bench.test", first_name="Bench", last_name=f"Holder {i}")
        for i in range(n)
    )
    accounts = CustomerAccount.objects.bulk_create(
        CustomerAccount(
            holder=holder,
            number=f"6{first + i:09d}",
            service_state="NM",
            time_zone="America/Denver",
            opened_at=inactive_since - dt.timedelta(days=400),
            last_activity_at=inactive_since,
            last_activity_kind="deposit",
        )
        for i, holder in enumerate(holders)
    )
    MailingAddress.objects.bulk_create(
        MailingAddress(
            account=account,
            line1=f"{100 + i % 9000} W 2ND ST",
            city="ROSWELL",
            state="NM",
            zip_code="88201",
            created_at=account.opened_at,
        )
        for i, account in enumerate(accounts)
    )
    cents = [1000 + (i * 37) % 5000 for i in range(n)]
    prepaid = AdvanceConnect.objects.bulk_create(
        AdvanceConnect(account=account, opened_at=account.opened_at, balance_cents=cents[i])
        for i, account in enumerate(accounts)
    )
    by_card = {"method": PurchaseMethod.ONLINE_CARD, "card_brand": "Visa", "card_last4": "4242"}
    LedgerEntry.objects.bulk_create(
        LedgerEntry(
            advance_connect=ac,
            kind=LedgerEntry.Kind.DEPOSIT,
            amount_cents=cents[i],
            occurred_at=inactive_since,
            **(
                {**by_card, "processor_token": f"tok_sweep_{first + i}"}
                if i % 3 == 0
                else {"method": PurchaseMethod.MAIL}
            ),
        )
        for i, ac in enumerate(prepaid)
    )
    InactivityNotice.objects.bulk_create(
        InactivityNotice(
            account=account,
            days_before=30,
            inactive_since=inactive_since,
            closes_on=business_date(sent_at) + dt.timedelta(days=30),
            created_at=sent_at,
            sent_at=sent_at,
        )
        for account in accounts
    )
    return [account.pk for account in accounts]


def _count_queries(counter):
    def wrapper(execute, sql, params, many, context):
        counter[0] += 1
        return execute(sql, params, many, context)

    return wrapper


def measure_inactivity_sweep(n: int = ACCOUNTS, *, profile: bool = False) -> dict:
    """Fill `n` due accounts, then time one `inactive_accounts_close` over them with the
    database tasks backend; the result says how many closed, how fast, with how many
    queries and tasks queued, and whether every kept balance still agrees."""
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import override_settings
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from accounts.selectors import advance_connect_balance_mismatches
    from portal.db import BATCH_SIZE
    from refunds.models import Closure
    from refunds.services.inactivity import inactive_accounts_close

    call_command("migrate", verbosity=0)
    now = timezone.now()
    ids = fill_due_accounts(n, now)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # the planner's statistics, as a live database has
            cursor.execute("ANALYZE")
    tasks_before = DBTaskResult.objects.count()
    queries = [0]
    profiler = cProfile.Profile() if profile else None
    with (
        override_settings(TASKS=DATABASE_TASKS),
        connection.execute_wrapper(_count_queries(queries)),
    ):
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        closures = inactive_accounts_close(now=now)
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - started
    if profiler:
        pstats.Stats(profiler).sort_stats(
            os.environ.get("BENCH_PROFILE_SORT", "cumulative")
        ).print_stats(40)
    closed = Closure.objects.filter(account_id__in=ids).count()
    return {
        "accounts": n,
        "closed": closed,
        "seconds": round(seconds, 3),
        "accounts_per_second": round(closed / seconds),
        "batch_size": BATCH_SIZE,
        "queries": queries[0],
        "queries_per_batch": round(queries[0] / max(1, -(-len(closures) // BATCH_SIZE)), 1),
        "tasks_queued": DBTaskResult.objects.count() - tasks_before,
        "balances_agree": advance_connect_balance_mismatches() == [],
        "database": connection.vendor,
    }


def main():
    args = [arg for arg in sys.argv[1:] if not arg.startswith("--")]
    n = int(args[0]) if args else ACCOUNTS
    database_url = os.environ.get("BENCH_DATABASE_URL")
    scratch = None
    if not database_url:
        scratch = tempfile.mkdtemp(prefix="portal-bench-sweep-")
        database_url = f"sqlite:///{scratch}/bench.sqlite3"
    django_setup(database_url)
    result = measure_inactivity_sweep(n, profile="--profile" in sys.argv)
    ok = result["closed"] == n and result["balances_agree"]
    fast = result["accounts_per_second"] >= TARGET_PER_SECOND
    print(
        f"Inactivity sweep: {result['closed']:,} of {n:,} due accounts closed in "
        f"{result['seconds']:.2f} s, {result['accounts_per_second']:,} accounts/s "
        f"[{'ok' if fast else 'UNDER'}: target {TARGET_PER_SECOND:,}/s]; "
        f"{result['queries_per_batch']} queries per batch of {result['batch_size']}, "
        f"{result['tasks_queued']} tasks queued; balances "
        f"{'agree' if result['balances_agree'] else 'DISAGREE'} ({result['database']})"
    )
    if scratch:
        for name in os.listdir(scratch):
            os.unlink(os.path.join(scratch, name))
        os.rmdir(scratch)
    sys.exit(0 if ok and fast else 1)


if __name__ == "__main__":
    main()
