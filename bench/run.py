"""Benchmarks for `make bench` (not part of the test suite).

SPEC §5: exports are streamed in constant memory at any size. This fills a scratch
database with 1,000,000 refunds, then measures the peak memory of
- the CSV export of all 1,000,000 refunds, consumed as a browser would, and
- the XLSX check register of 200,000 checks,
each in fresh processes: the growth of the process's peak resident memory
(ru_maxrss) over the export, and tracemalloc's peak of Python allocations. Both must
stay under 100 MiB. On PostgreSQL it also times the CSV of the 1,000,000 refunds, written
by COPY, against a raw COPY of the same rows, and prints the ratio (target 1.5x).

The scratch database is a temporary SQLite file, or BENCH_DATABASE_URL (it is
migrated and filled: never point it at a database you keep).
"""

import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REFUNDS = 1_000_000
CHECKS_IN_REGISTER = 200_000
CLOSURES = 1_000  # each with a chain of 1,000 refunds, each replacing the one before
CHUNK = 20_000
LIMIT_MIB = 100
AUDITOR_EMAIL = "bench-auditor@example.test"


def django_setup(database_url):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.dev")
    os.environ["DATABASE_URL"] = database_url
    os.environ["DEBUG"] = "false"  # no query log kept in memory
    import django

    django.setup()


def fill():
    """1,000 closed accounts and 1,000,000 refund checks, 200,000 of them issued
    today: COPY on PostgreSQL, multi-row inserts in chunks on SQLite."""
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


def resident_kib() -> int:
    """The resident memory of this process now, in KiB (the unit of ru_maxrss on
    Linux). The growth of ru_maxrss over an export is measured from here, not from
    the earlier peak of loading Django."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure(kind, traced):
    """Run one export in this process and report, as JSON, the growth of the peak
    resident memory over it or, `traced`, tracemalloc's peak (tracemalloc slows the
    export three to four times and its own bookkeeping inflates the resident memory,
    so the two are measured in separate runs)."""
    from django.utils import timezone

    from accounts.models import User
    from portal.business_calendar import business_date
    from refunds.exporters import EXPORTERS, export_response
    from refunds.models import ExportRun

    today = business_date(timezone.now())
    auditor = User.objects.get(email=AUDITOR_EMAIL)
    exporter, file_format = {
        "csv": (EXPORTERS["refunds"], "csv"),
        "xlsx": (EXPORTERS["check_register"], "xlsx"),
    }[kind]
    before = resident_kib()
    started = time.perf_counter()
    if traced:
        tracemalloc.start()
    response = export_response(
        exporter=exporter,
        file_format=file_format,
        date_from=today - dt.timedelta(days=1),
        date_to=today,
        actor=auditor,
    )
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
        figures["maxrss_mib"] = round(after / 1024, 1)
    print(json.dumps(figures))


COPY_RUNS = 3
COPY_TARGET = 1.5


def measure_copy_ratio():
    """PostgreSQL: the CSV of all 1,000,000 refunds as an auditor gets it (the record,
    then COPY with every cell formatted in SQL) against its floor, a raw
    `COPY (SELECT ...) TO STDOUT` of the same rows' unformatted columns; both read to
    the end here, medians of interleaved runs, reported as JSON."""
    from statistics import median

    from django.db import connection
    from django.utils import timezone

    from accounts.models import User
    from portal.business_calendar import business_date
    from refunds.exporters import EXPORTERS, export_response

    today = business_date(timezone.now())
    dates = {"date_from": today - dt.timedelta(days=1), "date_to": today}
    auditor = User.objects.get(email=AUDITOR_EMAIL)
    exporter = EXPORTERS["refunds"]
    plain = exporter.queryset(**dates).values_list(*[c.path for c in exporter.columns])
    sql, params = plain.query.get_compiler(using=plain.db).as_sql()
    floor_sql = f"COPY ({connection.ops.compose_sql(sql, params)}) TO STDOUT WITH (FORMAT csv)"

    def floor():
        with connection.cursor() as cursor, cursor.cursor.copy(floor_sql) as copy:
            for _ in copy:
                pass

    def export():
        response = export_response(exporter=exporter, file_format="csv", actor=auditor, **dates)
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
    print(json.dumps({"export_s": export_s, "floor_s": floor_s, "ratio": export_s / floor_s}))


def child(*args, database_url):
    """Run this script with `args` in a fresh process. The parent never loads Django
    or the data: on Linux a child inherits its parent's ru_maxrss across fork and
    exec, so a big parent would hide the child's own peak."""
    return subprocess.run(  # noqa: S603 - this same script
        [sys.executable, __file__, *args],
        env={**os.environ, "BENCH_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def run_measure(kind, traced, database_url):
    output = child("--measure", kind, "traced" if traced else "rss", database_url=database_url)
    return json.loads(output.strip().splitlines()[-1])


def main():
    database_url = os.environ.get("BENCH_DATABASE_URL")
    scratch = None
    if not database_url:
        scratch = tempfile.mkdtemp(prefix="portal-bench-")
        database_url = f"sqlite:///{scratch}/bench.sqlite3"
    started = time.perf_counter()
    child("--fill", database_url=database_url)
    print(f"Filled {REFUNDS:,} refunds in {time.perf_counter() - started:.0f} s ({database_url})")
    failed = False
    for kind, rows in (("csv", REFUNDS), ("xlsx", CHECKS_IN_REGISTER)):
        plain = run_measure(kind, False, database_url)
        traced = run_measure(kind, True, database_url)
        worst = max(plain["maxrss_growth_mib"], traced["tracemalloc_peak_mib"])
        ok = plain["rows"] == traced["rows"] == rows and worst < LIMIT_MIB
        failed |= not ok
        print(
            f"{plain['export']:>22}: {plain['rows']:>9,} rows, "
            f"{plain['bytes'] / 2**20:5.1f} MiB file in {plain['seconds']:3.0f} s; "
            f"ru_maxrss growth {plain['maxrss_growth_mib']:4.1f} MiB "
            f"(process peak {plain['maxrss_mib']:.0f} MiB); "
            f"tracemalloc peak {traced['tracemalloc_peak_mib']:4.1f} MiB "
            f"[{'ok' if ok else 'OVER'}: limit {LIMIT_MIB} MiB]"
        )
    if database_url.startswith("postgres"):
        copy = json.loads(child("--copy-ratio", database_url=database_url).strip().splitlines()[-1])
        ok = copy["ratio"] <= COPY_TARGET
        failed |= not ok
        print(
            f"CSV of {REFUNDS:,} refunds by COPY: {copy['export_s']:.2f} s; raw COPY floor "
            f"{copy['floor_s']:.2f} s; ratio {copy['ratio']:.2f}x "
            f"[{'ok' if ok else 'OVER'}: target {COPY_TARGET}x; medians of {COPY_RUNS}]"
        )
    if scratch:
        for name in os.listdir(scratch):
            os.unlink(os.path.join(scratch, name))
        os.rmdir(scratch)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--fill"]:
        django_setup(os.environ["BENCH_DATABASE_URL"])
        fill()
    elif sys.argv[1:2] == ["--measure"]:
        django_setup(os.environ["BENCH_DATABASE_URL"])
        measure(sys.argv[2], traced=sys.argv[3] == "traced")
    elif sys.argv[1:2] == ["--copy-ratio"]:
        django_setup(os.environ["BENCH_DATABASE_URL"])
        measure_copy_ratio()
    else:
        main()
