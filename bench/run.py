"""`make bench`: issue 13's figures, each beside a floor measured in the same run (the
machine may be shared, so a page is read against what a trivial request costs now).

It creates a scratch PostgreSQL database (`portal_bench_<pid>`) on the server of
BENCH_DATABASE_URL (default `postgres://postgres@127.0.0.1:5432/postgres`), migrates it,
fills it (bench/scale.py: 10,000,000 refunds by set-based SQL), measures, prints one
markdown table and the method notes, and drops the database at the end, also after a
failure or Ctrl-C. Each measurement runs in a fresh process (`--step`); this process never
loads Django, so a child's peak memory is its own.

- CSV of the newest 1,000,000 refunds by COPY against a raw COPY of the same rows
  (target 1.5x); its peak memory (ru_maxrss growth and tracemalloc, under 100 MiB).
- XLSX: `bench/export_task.py` `measure_xlsx_task(1,000,000)` when it exists (the
  background export task: peak under 64 MiB); until then the streamed check register's
  peak memory over the register's newest 200,000 checks.
- The back-office lists and searches (bench/admin_lists.py) at 10,000,000 refunds: p50
  under 50 ms, p95 shown, beside the trivial signed-in page.
- My Account and D1 under gunicorn with persistent connections (bench/holder_pages.py):
  at 100,000 ledger rows within 1.2x of their time at 10 rows, and at least half the
  trivial page's requests per second; beside them, for reference, the least a holder page
  does (bench/urls.py).
- The New Mexico inactivity sweep over 10,000 due accounts, from `bench/sweep.py`
  (`fill_due_accounts`, `measure_inactivity_sweep`) when it exists: >= 1,000 accounts/s,
  and two sweeps at once close each account once.
- Closures by 1 and 4 processes (2,000 accounts, bench/closures.py): closures/s, the share
  of `pg_stat_activity` samples waiting on a lock, then the audit trail verified.
- The same closures by this tree against commit BENCH_BASELINE (d300cc8, before issue 13),
  each migrated, seeded and closing on a fresh database of its own (bench/baseline.py):
  closures/s by 1 and by 4 processes, now vs then (target >= 1.0x), and their lock waits.
- The audit trail's admin for auditors (bench/audit_trail.py), last, on 10,000,000 more
  events: the list, a filter and searches by object id, closure reference, staff email
  and action words, p50 < 50 ms; other text, which reads every event, for reference.

Sizes come from the environment for a quick run: BENCH_REFUNDS (10000000), BENCH_CSV_ROWS
(1000000), BENCH_XLSX_ROWS (1000000), BENCH_ADMIN_REPETITIONS (30), BENCH_LEDGER_ROWS
(100000), BENCH_LOAD_SECONDS (10), BENCH_CLOSURES (2000), BENCH_SWEEP_ACCOUNTS (10000),
BENCH_BASELINE_ALONE (300), BENCH_BASELINE_TOGETHER (1200), BENCH_BASELINE_ROUNDS (3),
BENCH_AUDIT_EVENTS (10000000).
BENCH_KEEP, BENCH_REUSE and BENCH_PARTS (below) run parts of it against a kept database.
"""

import datetime as dt
import importlib.util
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _size(name, default):
    return int(os.environ.get(name, default))


SCALE_REFUNDS = _size("BENCH_REFUNDS", 10_000_000)
CSV_ROWS = min(_size("BENCH_CSV_ROWS", 1_000_000), SCALE_REFUNDS)
XLSX_ROWS = min(_size("BENCH_XLSX_ROWS", 1_000_000), SCALE_REFUNDS)
ADMIN_REPETITIONS = _size("BENCH_ADMIN_REPETITIONS", 30)
LEDGER_ROWS = _size("BENCH_LEDGER_ROWS", 100_000)
LOAD_SECONDS = _size("BENCH_LOAD_SECONDS", 10)
LOAD_ROUNDS = 5
CLOSURES_AT_ONCE = _size("BENCH_CLOSURES", 2_000)
CLOSURES_ALONE = CLOSURES_AT_ONCE // 4
SWEEP_ACCOUNTS = _size("BENCH_SWEEP_ACCOUNTS", 10_000)
AUDIT_EVENTS = _size("BENCH_AUDIT_EVENTS", 10_000_000)
SERVER_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
# For working on one figure: BENCH_KEEP=1 keeps the filled database, BENCH_REUSE=<name>
# measures a kept one again without filling, BENCH_PARTS=admin,sweeps runs only those parts.
KEEP = os.environ.get("BENCH_KEEP") == "1"
REUSE = os.environ.get("BENCH_REUSE", "")
PARTS = [part for part in os.environ.get("BENCH_PARTS", "").split(",") if part]

CHECKS_IN_REGISTER = 200_000
LIMIT_MIB = 100
XLSX_LIMIT_MIB = 64
COPY_RUNS = 3
COPY_TARGET = 1.5
PAGE_TARGET_MS = 50
PAGE_GROWTH_TARGET = 1.2
FLOOR_SHARE_TARGET = 0.5
SWEEP_TARGET = 1_000
LOCK_SHARE_TARGET = 0.01
GUNICORN_WORKERS, GUNICORN_THREADS, CLIENT_THREADS = 3, 8, 8
AUDITOR_EMAIL = "bench-auditor@example.test"

# The legacy fill below (1,000 closures, 1,000,000 refunds, 200,000 issued today) is kept
# for bench/export_task.py, which reuses it for its own 1,000,000-row check.
REFUNDS = 1_000_000
CLOSURES = 1_000
CHUNK = 20_000


def django_setup(database_url):
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["DATABASE_URL"] = database_url
    import django

    django.setup()


def fill():
    """The legacy fill: 1,000 closed accounts and 1,000,000 refund checks, 200,000 of
    them issued today: COPY on PostgreSQL, multi-row inserts in chunks on SQLite."""
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import CustomerAccount, User
    from portal.business_calendar import business_date
    from refunds.models import Closure, Refund

    call_command("migrate", verbosity=0)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode=OFF")
            cursor.execute("PRAGMA synchronous=OFF")
    now = timezone.now()
    today = business_date(now)
    User.objects.create_user(email=AUDITOR_EMAIL, is_staff=True)
    holders = User.objects.bulk_create(
        User(email=f"holder{i}@bench.test", first_name="Bench", last_name=str(i))
        for i in range(CLOSURES)
    )
    accounts = CustomerAccount.objects.bulk_create(
        CustomerAccount(
            holder=holder,
            number=f"8{i:08d}",
            status=CustomerAccount.Status.CLOSED,
            service_state="TX",
            opened_at=now,
            closed_at=now,
            last_activity_at=now,
        )
        for i, holder in enumerate(holders)
    )
    closures = Closure.objects.bulk_create(
        Closure(
            account=account,
            reference=f"CL-BN{i // 1000:02d}-{i % 1000:04d}",
            reason=Closure.Reason.HOLDER_REQUEST,
            closed_at=now,
            refund_cents=4250,
        )
        for i, account in enumerate(accounts)
    )
    # Every column as Django would write it, from one template row; only a few vary.
    template = Refund(
        method=Refund.Method.CHECK,
        status=Refund.Status.PENDING,
        amount_cents=1,
        created_at=now,
        status_changed_at=now,
        due_date=today + dt.timedelta(days=21),
        address_line1="1200 E 6TH ST",
        address_city="AUSTIN",
        address_state="TX",
        address_zip="78702",
    )
    fields = Refund._meta.concrete_fields
    base = [
        field.get_db_prep_save(getattr(template, field.attname), connection) for field in fields
    ]
    at = {field.attname: i for i, field in enumerate(fields)}
    issued_on = fields[at["issued_on"]].get_db_prep_save(today, connection)
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    per_closure = REFUNDS // CLOSURES

    def row(n):
        values = base.copy()
        values[at["id"]] = n + 1
        values[at["closure_id"]] = closures[n // per_closure].pk
        values[at["replaces_id"]] = None if n % per_closure == 0 else n
        values[at["amount_cents"]] = 1000 + n % 9000
        values[at["payee_name"]] = f"Bench Holder {n // per_closure}"
        values[at["address_line2"]] = "=1+1" if n % 1000 == 0 else ""  # a formula to defuse
        if n < CHECKS_IN_REGISTER:
            values[at["status"]] = Refund.Status.ISSUED
            values[at["check_number"]] = f"{n + 1:07d}"
            values[at["issued_on"]] = issued_on
        return values

    table = Refund._meta.db_table
    if connection.vendor == "postgresql":
        # COPY: several times faster than INSERT on PostgreSQL.
        with (
            transaction.atomic(),
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for n in range(REFUNDS):
                copy.write_row(row(n))
    else:
        one_row = "(" + ", ".join(["%s"] * len(row(0))) + ")"
        rows_per_insert = 200
        # Table and column names come from the model, values go as parameters.
        insert = f"INSERT INTO {table} ({columns}) VALUES "  # noqa: S608
        for start in range(0, REFUNDS, CHUNK):
            rows = [row(n) for n in range(start, min(start + CHUNK, REFUNDS))]
            with transaction.atomic(), connection.cursor() as cursor:
                for first in range(0, len(rows), rows_per_insert):
                    part = rows[first : first + rows_per_insert]
                    cursor.execute(
                        insert + ", ".join([one_row] * len(part)),
                        [value for values in part for value in values],
                    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {REFUNDS})")
            cursor.execute(f"ANALYZE {table}")


# --- steps, each run in a fresh process ---


def step_fill():
    """Migrate, fill at scale, add the auditor; the export windows."""
    from django.core.management import call_command
    from django.utils import timezone

    from accounts.models import User
    from bench.scale import fill_scale

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    figures = fill_scale(SCALE_REFUNDS, timezone.now())
    User.objects.create_user(email=AUDITOR_EMAIL, is_staff=True)
    print(json.dumps({**figures, "windows": _windows()}))


def step_windows():
    print(json.dumps({"windows": _windows()}))


def _windows():
    """The export windows that hold CSV_ROWS refunds (by creation) and CHECKS_IN_REGISTER
    checks (by issue date)."""
    from django.db import connection
    from django.utils import timezone

    from portal.business_calendar import business_date

    now = timezone.now()
    windows = {}
    with connection.cursor() as cursor:
        for name, column, rows in (
            ("csv", "created_at", CSV_ROWS),
            ("register", "issued_on", CHECKS_IN_REGISTER),
        ):
            cursor.execute(
                f"SELECT {column} FROM refunds_refund WHERE {column} IS NOT NULL "  # noqa: S608
                f"ORDER BY {column} DESC LIMIT 1 OFFSET %s",
                [rows - 1],
            )
            first = cursor.fetchone()
            start = first[0] if first else dt.date(2000, 1, 1)
            if isinstance(start, dt.datetime):
                start = business_date(start)
            # A day after the window's first row, so the window holds at most `rows`.
            windows[name] = [
                (start + dt.timedelta(days=1)).isoformat(),
                (business_date(now) + dt.timedelta(days=60)).isoformat(),
            ]
    return windows


def _window(name):
    first, last = json.loads(os.environ["BENCH_WINDOWS"])[name]
    return {"date_from": dt.date.fromisoformat(first), "date_to": dt.date.fromisoformat(last)}


def resident_kib() -> int:
    """The resident memory of this process now, in KiB (the unit of ru_maxrss on
    Linux). The growth of ru_maxrss over an export is measured from here, not from
    the earlier peak of loading Django."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _streamed_csv(exporter, auditor, dates):
    """The CSV as the back office streams it, recorded first, whatever its size."""
    from refunds.exporters.base import export_record, export_send

    return export_send(
        exporter,
        *export_record(exporter=exporter, file_format="csv", actor=auditor, at_once=True, **dates),
    )


def step_memory(traced):
    """Run one streamed export in this process and report the growth of the peak
    resident memory over it or, `traced`, tracemalloc's peak (tracemalloc slows the
    export three to four times and its own bookkeeping inflates the resident memory,
    so the two are measured in separate runs)."""
    from accounts.models import User
    from refunds.exporters import EXPORTERS
    from refunds.models import ExportRun

    auditor = User.objects.get(email=AUDITOR_EMAIL)
    exporter, file_format = EXPORTERS["refunds"], "csv"
    before = resident_kib()
    started = time.perf_counter()
    if traced:
        tracemalloc.start()
    response = _streamed_csv(exporter, auditor, _window("csv"))
    size = 0
    for chunk in response.streaming_content:
        size += len(chunk)
    response.close()
    figures = {
        "export": f"{exporter.key} as {file_format}",
        "rows": ExportRun.objects.latest("id").row_count,
        "bytes": size,
        "seconds": round(time.perf_counter() - started, 1),
    }
    if traced:
        figures["tracemalloc_peak_mib"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
        tracemalloc.stop()
    else:
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        figures["maxrss_growth_mib"] = round((after - before) / 1024, 1)
    print(json.dumps(figures))


def step_copy_ratio():
    """The CSV of the window's refunds as an auditor gets it (the record, then COPY with
    every cell formatted in SQL) against its floor, a raw `COPY (SELECT ...) TO STDOUT`
    of the same rows' unformatted columns; both read to the end, medians of interleaved
    runs."""
    from statistics import median

    from django.db import connection

    from accounts.models import User
    from refunds.exporters import EXPORTERS

    dates = _window("csv")
    auditor = User.objects.get(email=AUDITOR_EMAIL)
    exporter = EXPORTERS["refunds"]
    plain = exporter.queryset(**dates).values_list(*[c.path for c in exporter.columns])
    rows = plain.count()
    sql, params = plain.query.get_compiler(using=plain.db).as_sql()
    floor_sql = f"COPY ({connection.ops.compose_sql(sql, params)}) TO STDOUT WITH (FORMAT csv)"

    def floor():
        with connection.cursor() as cursor, cursor.cursor.copy(floor_sql) as copy:
            for _ in copy:
                pass

    def export():
        response = _streamed_csv(exporter, auditor, dates)
        for _ in response.streaming_content:
            pass
        response.close()

    times = {"export": [], "floor": []}
    for _ in range(COPY_RUNS):
        for name, run in (("export", export), ("floor", floor)):
            started = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - started)
    export_s, floor_s = median(times["export"]), median(times["floor"])
    print(json.dumps({"rows": rows, "export_s": export_s, "floor_s": floor_s}))


def step_xlsx_task():
    from bench.export_task import measure_xlsx_task

    # tracemalloc slows the writer several times over: at a million rows the resident
    # memory's growth is the measure (the exports' tests trace smaller files).
    print(json.dumps(measure_xlsx_task(XLSX_ROWS, traced=False), default=str))


def step_admin():
    from bench.admin_lists import measure_admin

    print(json.dumps(measure_admin(ADMIN_REPETITIONS)))


def step_holders():
    from bench.holder_pages import holders_with_history

    print(json.dumps(holders_with_history([10, LEDGER_ROWS])))


def step_closures_prepare():
    from bench.closures import prepare

    print(json.dumps(prepare(CLOSURES_ALONE + CLOSURES_AT_ONCE)))


def step_close(ids_json):
    from bench.closures import close_each

    close_each(json.loads(ids_json))


def step_audit_trail():
    from bench.audit_trail import measure_trail

    print(json.dumps(measure_trail(AUDIT_EVENTS, ADMIN_REPETITIONS)))


def step_audit():
    from bench.closures import audit_check

    print(json.dumps(audit_check()))


def step_sweep_measure():
    from bench.sweep import measure_inactivity_sweep

    print(json.dumps(measure_inactivity_sweep(SWEEP_ACCOUNTS), default=str))


def step_sweep_fill(now_iso):
    from django.db.models import Max

    from bench.sweep import fill_due_accounts
    from refunds.models import Closure

    fill_due_accounts(SWEEP_ACCOUNTS, dt.datetime.fromisoformat(now_iso))
    print(json.dumps({"last_closure": Closure.objects.aggregate(last=Max("id"))["last"] or 0}))


def step_sweep_close(now_iso):
    from refunds.services.inactivity import inactive_accounts_close

    started = time.perf_counter()
    closed = inactive_accounts_close(now=dt.datetime.fromisoformat(now_iso))
    print(json.dumps({"closed": len(closed), "seconds": time.perf_counter() - started}))


def step_sweep_check(last_closure):
    """Every account the two sweeps closed has one closure, one original refund at
    most and one `closure.confirmed` event."""
    from django.db.models import Count, Q

    from portal.audit import AuditAction
    from portal.models import AuditEvent
    from refunds.models import Closure

    closures = Closure.objects.filter(pk__gt=int(last_closure))
    ids = [str(pk) for pk in closures.values_list("pk", flat=True)]
    events = (
        AuditEvent.objects.filter(
            action=AuditAction.CLOSURE_CONFIRMED, object_type="refunds.closure", object_id__in=ids
        )
        .values("object_id")
        .annotate(n=Count("id"))
    )
    twice_audited = sum(1 for row in events if row["n"] != 1)
    originals = closures.annotate(
        n=Count("refunds", filter=Q(refunds__replaces__isnull=True))
    ).filter(n__gt=1)
    print(
        json.dumps(
            {
                "closures": len(ids),
                "accounts": closures.values("account").distinct().count(),
                "audited": len(events),
                "twice_audited": twice_audited,
                "two_original_refunds": originals.count(),
            }
        )
    )


STEPS = {
    "fill": step_fill,
    "windows": step_windows,
    "memory": lambda traced: step_memory(traced == "traced"),
    "copy-ratio": step_copy_ratio,
    "xlsx-task": step_xlsx_task,
    "admin": step_admin,
    "holders": step_holders,
    "closures-prepare": step_closures_prepare,
    "close": step_close,
    "audit": step_audit,
    "audit-trail": step_audit_trail,
    "sweep-measure": step_sweep_measure,
    "sweep-fill": step_sweep_fill,
    "sweep-close": step_sweep_close,
    "sweep-check": step_sweep_check,
}


# --- the parent: database, processes, table ---


class Bench:
    def __init__(self):
        self.database = REUSE or f"portal_bench_{os.getpid()}"
        base, _, _ = SERVER_URL.rpartition("/")
        self.database_url = f"{base}/{self.database}"
        self.windows = "{}"
        self.rows = []
        self.notes = []
        self.failed = False
        self.checkpoints = tempfile.mkdtemp(prefix="portal-bench-checkpoints-")

    # the scratch database

    def _server(self, sql):
        import psycopg

        with psycopg.connect(SERVER_URL, autocommit=True) as connection:
            connection.execute(sql)

    def create(self):
        self._server(f'CREATE DATABASE "{self.database}"')

    def drop(self):
        if not (KEEP or REUSE):
            self._server(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        for name in os.listdir(self.checkpoints):
            os.unlink(os.path.join(self.checkpoints, name))
        os.rmdir(self.checkpoints)

    # children

    def env(self):
        return {
            **os.environ,
            "BENCH_CHILD_DATABASE_URL": self.database_url,
            "BENCH_WINDOWS": self.windows,
            "AUDIT_CHECKPOINT_DIR": self.checkpoints,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
        }

    def child(self, *args):
        """Run a step in a fresh process; its last line of output, read as JSON."""
        done = subprocess.run(  # noqa: S603 - this same script
            [sys.executable, __file__, "--step", *args],
            env=self.env(),
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise RuntimeError(f"step {args[0]} failed:\n{done.stderr[-3000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    def spawn(self, *args):
        return subprocess.Popen(  # noqa: S603 - this same script
            [sys.executable, __file__, "--step", *args],
            env=self.env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    # the table

    def row(self, what, measured, floor, ratio, target, ok):
        self.failed |= ok is False
        verdict = {True: "ok", False: "**NO**", None: "n/a"}[ok]
        self.rows.append((what, measured, floor, ratio, target, verdict))

    def unavailable(self, what, target, why):
        self.rows.append((what, why, "", "", target, "n/a"))

    def print_table(self):
        print("| what | measured | floor | ratio | target | ok? |")
        print("|---|---|---|---|---|---|")
        for row in self.rows:
            print("| " + " | ".join(str(cell) for cell in row) + " |")
        print()
        for note in self.notes:
            print(f"- {note}")

    # the measurements

    def fill(self):
        started = time.perf_counter()
        figures = self.child("fill")
        self.windows = json.dumps(figures["windows"])
        self.notes.append(
            f"Filled in {time.perf_counter() - started:.0f} s by set-based SQL "  # noqa: S608 - a note, not SQL
            f"(`INSERT ... SELECT generate_series`, bench/scale.py) into the tables `migrate` "
            f"made: {figures['refunds']:,} refunds, {figures['closures']:,} closures, "
            f"{figures['accounts']:,} accounts and users, {figures['statements']:,} Direct "
            f"Bill statements; {figures['indexes_rebuilt']} plain indexes dropped and rebuilt "
            f"from their definitions, then VACUUM ANALYZE; database "
            f"{figures['database_gib']} GiB. Seconds per part: {figures['seconds']}."
        )

    def exports(self):
        copy = self.child("copy-ratio")
        ratio = copy["export_s"] / copy["floor_s"]
        self.row(
            f"CSV of {copy['rows']:,} refunds by COPY (median of {COPY_RUNS})",
            f"{copy['export_s']:.2f} s",
            f"{copy['floor_s']:.2f} s raw COPY",
            f"{ratio:.2f}x",
            f"<= {COPY_TARGET}x",
            ratio <= COPY_TARGET,
        )
        plain, traced = self.child("memory", "rss"), self.child("memory", "traced")
        worst = max(plain["maxrss_growth_mib"], traced["tracemalloc_peak_mib"])
        self.row(
            f"CSV of {plain['rows']:,} refunds streamed: peak memory",
            f"{plain['maxrss_growth_mib']} MiB RSS growth, "
            f"{traced['tracemalloc_peak_mib']} MiB tracemalloc",
            "",
            "",
            f"< {LIMIT_MIB} MiB",
            worst < LIMIT_MIB,
        )
        task = self.child("xlsx-task")
        peak = task["maxrss_growth_mib"]
        self.row(
            f"XLSX of {XLSX_ROWS:,} rows by the background export task",
            ", ".join(f"{key} {value}" for key, value in task.items()),
            "",
            "",
            f"< {XLSX_LIMIT_MIB} MiB, file downloads",
            peak < XLSX_LIMIT_MIB and task["download_ok"] is True,
        )

    def page_rows(self, figures):
        """A row for each admin page of `figures` (`measure_pages`), against its floor."""
        floor = figures["floor"]
        for page in figures["pages"]:
            self.row(
                f"admin {page['what']}",
                f"p50 {page['p50_ms']} ms (p95 {page['p95_ms']})",
                f"p50 {floor['p50_ms']} ms (p95 {floor['p95_ms']})",
                f"{page['p50_ms'] / floor['p50_ms']:.1f}x",
                f"p50 < {PAGE_TARGET_MS} ms",
                page["p50_ms"] < PAGE_TARGET_MS,
            )
        return floor

    def admin(self):
        figures = self.child("admin")
        floor = self.page_rows(figures)
        self.notes.append(
            f"Admin pages: Django's test Client signed in as staff of the page's role (TOTP "
            f"enrolled), {ADMIN_REPETITIONS} rounds after 3 warm-up requests each, every "
            f"round each page once and the floor (bench/urls.py, a signed-in page that does "
            f"nothing) after each page ({floor['samples']} floor samples). Search terms read "
            f"from rows in the middle of the tables: {figures['terms']}."
        )

    def audit_trail(self):
        from bench.audit_trail import FREE_TEXT_REPETITIONS

        figures = self.child("audit-trail")
        self.page_rows(figures)
        scan = figures["scan"]
        self.row(
            f"admin {scan['what']}",
            f"p50 {scan['p50_ms']} ms (p95 {scan['p95_ms']})",
            "",
            "",
            "",
            None,
        )
        fill = figures["fill"]
        self.notes.append(
            f"Audit trail: {fill['added']:,} events added by set-based SQL in "
            f"{fill['seconds']} s (bench/audit_trail.py; {fill['events']:,} in all), then "
            f"each page as the admin pages are, {ADMIN_REPETITIONS} rounds with the floor; "
            f"other text {FREE_TEXT_REPETITIONS} times. Terms: {figures['terms']}."
        )

    def holder_pages(self):
        from bench.holder_pages import FLOOR, LEAST_HOLDER_PAGE, PAGES, combined, load, sign_in

        emails = self.child("holders")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = subprocess.Popen(  # noqa: S603 - the project's gunicorn
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "portal.wsgi",
                "--chdir",
                str(ROOT),
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(GUNICORN_WORKERS),
                "--threads",
                str(GUNICORN_THREADS),
                "--keep-alive",
                "30",
                "--log-level",
                "warning",
            ],
            env={**self.env(), "DATABASE_URL": self.database_url, "CONN_MAX_AGE": "60"},
        )
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.2)
            cookies = {
                rows: sign_in(port, email)
                for rows, email in zip((10, LEDGER_ROWS), emails, strict=True)
            }

            # The floor and each page take turns, LOAD_ROUNDS slices of LOAD_SECONDS each, so
            # that a moment when the shared machine is busier falls on all of them alike.
            runs = {
                "floor": (FLOOR, 10),
                "least": (LEAST_HOLDER_PAGE, 10),
                **{
                    (name, rows): (path, rows)
                    for name, path in PAGES.items()
                    for rows in (10, LEDGER_ROWS)
                },
            }
            for path, rows in runs.values():
                load(port, path, cookies[rows], threads=CLIENT_THREADS, seconds=2)  # warm up
            slices: dict = {key: [] for key in runs}
            for _ in range(LOAD_ROUNDS):
                for key, (path, rows) in runs.items():
                    slices[key].append(
                        load(
                            port,
                            path,
                            cookies[rows],
                            threads=CLIENT_THREADS,
                            seconds=LOAD_SECONDS / LOAD_ROUNDS,
                        )
                    )
            results = {key: combined(parts) for key, parts in slices.items()}
            floor = results.pop("floor")
            least = results.pop("least")
        finally:
            server.terminate()
            server.wait(timeout=30)
        self.row(
            "the least holder page (its account read and the base layout): req/s under gunicorn",
            f"{least['rps']} req/s (p50 {least['p50_ms']} ms)",
            f"{floor['rps']} req/s (p50 {floor['p50_ms']} ms)",
            f"{least['rps'] / floor['rps']:.2f}x",
            "",
            None,
        )
        labels = {"my_account": "My Account", "d1": "D1 (Delete Account review)"}
        for name in PAGES:
            for rows in (10, LEDGER_ROWS):
                result = results[name, rows]
                share = result["rps"] / floor["rps"]
                self.row(
                    f"{labels[name]}, {rows:,} ledger rows: req/s under gunicorn",
                    f"{result['rps']} req/s (p50 {result['p50_ms']} ms)",
                    f"{floor['rps']} req/s (p50 {floor['p50_ms']} ms)",
                    f"{share:.2f}x",
                    f">= {FLOOR_SHARE_TARGET}x floor",
                    share >= FLOOR_SHARE_TARGET,
                )
            growth = results[name, 10]["rps"] / results[name, LEDGER_ROWS]["rps"]
            self.row(
                f"{labels[name]}: time at {LEDGER_ROWS:,} rows vs 10 rows",
                f"{1000 / results[name, LEDGER_ROWS]['rps']:.2f} ms/req",
                f"{1000 / results[name, 10]['rps']:.2f} ms/req",
                f"{growth:.2f}x",
                f"<= {PAGE_GROWTH_TARGET}x",
                growth <= PAGE_GROWTH_TARGET,
            )
        self.notes.append(
            f"Holder pages: gunicorn ({GUNICORN_WORKERS} workers x {GUNICORN_THREADS} threads, "
            f"CONN_MAX_AGE=60) on the scratch database; each holder signed in through the "
            f"login form; {CLIENT_THREADS} client threads with one keep-alive connection each, "
            f"{LOAD_SECONDS} s per page in {LOAD_ROUNDS} turns with the floor and the other "
            f"pages, after 2 s of warm-up ({floor['requests']} floor "
            f"requests); time per request = 1 / req/s at that concurrency."
        )

    def sweeps(self):
        what = f"inactivity sweep over {SWEEP_ACCOUNTS:,} due accounts"
        if importlib.util.find_spec("bench.sweep") is None:
            self.unavailable(what, f">= {SWEEP_TARGET}/s", "not available (bench/sweep.py)")
            self.unavailable("two sweeps at once", "each closed once", "not available")
            return
        figures = self.child("sweep-measure")
        rate = next(
            (value for key, value in figures.items() if "per_s" in key or "/s" in key), None
        )
        self.row(
            what,
            ", ".join(f"{key} {value}" for key, value in figures.items()),
            "",
            "",
            f">= {SWEEP_TARGET} accounts/s",
            None if rate is None else rate >= SWEEP_TARGET,
        )
        now = dt.datetime.now(dt.timezone.utc).isoformat()
        last = self.child("sweep-fill", now)["last_closure"]
        sweeps = [self.spawn("sweep-close", now) for _ in range(2)]
        outputs = [json.loads(sweep.communicate()[0].strip().splitlines()[-1]) for sweep in sweeps]
        check = self.child("sweep-check", str(last))
        once = (
            check["closures"] == check["accounts"] == check["audited"] == SWEEP_ACCOUNTS
            and not check["twice_audited"]
            and not check["two_original_refunds"]
        )
        self.row(
            f"two sweeps at once over {SWEEP_ACCOUNTS:,} due accounts",
            f"closed {outputs[0]['closed']} + {outputs[1]['closed']}; {check}",
            "",
            "",
            "each closed once",
            once,
        )

    def closures(self):
        from bench.closures import Sampler

        ids = self.child("closures-prepare")
        alone, together = ids[:CLOSURES_ALONE], ids[CLOSURES_ALONE:]

        def close(groups):
            workers = [self.spawn("close", json.dumps(group)) for group in groups]
            pids = [json.loads(worker.stdout.readline())["pid"] for worker in workers]
            with Sampler(self.database_url, pids) as sampler:
                started = time.perf_counter()
                for worker in workers:
                    worker.stdin.write("go\n")
                    worker.stdin.flush()
                for worker in workers:
                    worker.stdout.readline()
                    if worker.wait():
                        raise RuntimeError("a closing process failed")
                seconds = time.perf_counter() - started
            return sum(len(group) for group in groups) / seconds, sampler.report()

        rate_alone, waits_alone = close([alone])
        quarter = len(together) // 4
        rate_together, waits = close([together[i * quarter : (i + 1) * quarter] for i in range(4)])
        self.row(
            f"closures/s, 1 process ({len(alone)} accounts)",
            f"{rate_alone:.0f}/s",
            "",
            "",
            "",
            None,
        )
        self.row(
            f"closures/s, 4 processes ({len(together)} accounts)",
            f"{rate_together:.0f}/s",
            f"{rate_alone:.0f}/s (1 process)",
            f"{rate_together / rate_alone:.2f}x",
            "grows with processes",
            rate_together > rate_alone,
        )
        self.row(
            "4 closing processes: samples waiting on a lock",
            f"{waits['lock_share']:.1%} (advisory {waits['advisory_share']:.1%}); {waits['waits']}",
            f"{waits['samples']} samples",
            "",
            f"<= {LOCK_SHARE_TARGET:.0%}",
            waits["lock_share"] <= LOCK_SHARE_TARGET,
        )
        audit = self.child("audit")
        self.row(
            "audit trail after the closures", audit["report"], "", "", "intact", audit["intact"]
        )
        self.notes.append(
            f"Closures: `closure_confirm` with the holder as actor and the address on record, "
            f"accounts from `seed_random_holders`; pg_stat_activity sampled every 5 ms from a "
            f"5th connection (1 process: {waits_alone['samples']} samples, lock share "
            f"{waits_alone['lock_share']})."
        )

    def closures_vs_baseline(self):
        from bench.baseline import closures_vs_baseline

        closures_vs_baseline(self, ROOT, KEEP)


def main():
    bench = Bench()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    started = time.perf_counter()
    parts = (
        bench.admin,
        bench.exports,
        bench.holder_pages,
        bench.sweeps,
        bench.closures,
        bench.closures_vs_baseline,
        bench.audit_trail,  # last: its events are not keyed, and the trail was verified
    )
    try:
        if REUSE:
            bench.windows = json.dumps(bench.child("windows")["windows"])
        else:
            bench.create()
            bench.fill()
        for part in parts:
            if PARTS and part.__name__ not in PARTS:
                continue
            try:
                part()
            except RuntimeError as error:
                bench.failed = True
                bench.notes.append(f"{part.__name__} failed: {error}")
    finally:
        bench.drop()
    kept = "kept" if KEEP or REUSE else "dropped"
    bench.notes.append(
        f"Whole run {time.perf_counter() - started:.0f} s; scratch database {bench.database} "
        f"{kept}."
    )
    bench.print_table()
    sys.exit(1 if bench.failed else 0)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--step"]:
        django_setup(os.environ["BENCH_CHILD_DATABASE_URL"])
        STEPS[sys.argv[2]](*sys.argv[3:])
    else:
        main()
