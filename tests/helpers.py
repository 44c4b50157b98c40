"""Small helpers the tests share: TOTP codes and links out of emails."""

import contextlib
import io
import os
import re
import subprocess
import sys
import threading
import time

import psycopg
import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections

TOTP_PERIOD = 30
TOTP_MARGIN = 5


def totp_code(secret, at=None):
    """The six-digit code an authenticator app would show for `secret` now.

    Without `at`, a window with less than TOTP_MARGIN seconds left is waited out first:
    the portal takes a code only in its own 30-second window, and a code read just before
    the turn reached a busy live server just after it (an "Incorrect code" in CI).
    """
    if at is None:
        left = TOTP_PERIOD - time.time() % TOTP_PERIOD
        if left < TOTP_MARGIN:
            time.sleep(left)
        at = time.time()
    return format_hotp_value(hotp_value(secret, int(at // TOTP_PERIOD)))


def link_in(message):
    """The first portal link in an email body."""
    return re.search(r"https?://[^/\s]+(/\S+)", message.body).group(1)


def run_at_once(count, target):
    """Start `count` threads that call `target(i)` together; return results and errors."""
    barrier = threading.Barrier(count)
    results, errors = [None] * count, []

    def worker(i):
        try:
            barrier.wait()
            results[i] = target(i)
        except Exception as exc:  # collected and asserted on by the caller
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


# Tests of row locks and concurrency: PostgreSQL only, run in CI on PostgreSQL.
postgres_only = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL row locks (SELECT ... FOR UPDATE, SKIP LOCKED); SQLite has none",
    ),
]


PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "portal.settings.prod",
    "SECRET_KEY": "x" * 60 + "-a-long-random-production-secret",
    "ALLOWED_HOSTS": "portal.example.org",
    "CARD_GATEWAY": "refunds.gateway.FakeCardGateway",
    "AUDIT_HMAC_KEYS": "k1:" + "s" * 48,
    "DATA_KEYS": "m1:" + "d" * 48,
    "PATH": os.environ["PATH"],
}


def manage_in_production(*args, **env):
    """Run `manage.py *args` in a fresh process under production settings, with the
    environment a deployment must provide (overridden by `env`; None removes a name)."""
    merged = {**PRODUCTION_ENV, **env}
    return subprocess.run(  # noqa: S603 (our own manage.py, fixed arguments)
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={name: value for name, value in merged.items() if value is not None},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# SPEC §5: in CI the PostgreSQL suite runs logged in as the app's restricted role (see
# tests/conftest.py). The owner's rights are then reached only through this function,
# which exists in the test database alone, for what a DBA would do and for the flush
# between transactional tests.
APP_ROLE = os.environ.get("PORTAL_TEST_APP_ROLE", "")
# The role the tests log in as the app: CI's, or the one `create_db_roles` makes by default.
APP_LOGIN = APP_ROLE or "portal_app"
AS_OWNER_FUNCTION = "portal_test_as_owner"


def running_as_app_role() -> bool:
    return (
        bool(APP_ROLE)
        and connection.vendor == "postgresql"
        and (connection.settings_dict["USER"] == APP_ROLE)
    )


@contextlib.contextmanager
def app_role_login():
    """A connection (autocommit) logged in as the app role for real, not SET ROLE, with
    the grants `create_db_roles` gives: what someone holding the app's login could do.
    In CI the suite already runs as that role; locally the grants are applied first."""
    if not running_as_app_role():
        owner = connection.settings_dict["USER"]
        call_command("create_db_roles", owner=owner, app=APP_LOGIN, stdout=io.StringIO())
    settings_dict = connection.settings_dict
    with psycopg.connect(
        host=settings_dict["HOST"],
        port=settings_dict["PORT"] or 5432,
        dbname=settings_dict["NAME"],
        user=APP_LOGIN,
        password=os.environ.get("DB_APP_PASSWORD"),
        autocommit=True,
    ) as app:
        yield app


def execute_as_owner(cursor, sql, params=None):
    """Run `sql` with the table owner's rights, as someone holding the owner's login (a
    DBA) would: directly when the suite is the owner, else through the test database's
    owner function."""
    if not running_as_app_role():
        cursor.execute(sql, params)
        return
    statement = connection.ops.compose_sql(sql, params) if params else sql
    cursor.execute(f"SELECT {AS_OWNER_FUNCTION}(%s)", [statement])


def bai2_paid_items(paid, *, as_of="260310", account="000123456789", tamper_total=0) -> bytes:
    """A BAI2 paid-items file of `paid` [(check number, cents)] on `account`, with its
    control totals and record counts (records 01, 02, 03, a 16 "Check Paid" each, 49,
    98, 99); `tamper_total` puts the account control total off by that much."""
    details = [f"16,475,{cents},0,BR{n:04d},{number}/" for n, (number, cents) in enumerate(paid)]
    total = sum(cents for _number, cents in paid)
    account_records = len(details) + 2
    lines = [
        f"01,BANKUS33,PORTAL,{as_of},0600,1,,,2/",
        f"02,PORTAL,BANKUS33,1,{as_of},2359,USD,2/",
        f"03,{account},USD,/",
        *details,
        f"49,{total + tamper_total},{account_records}/",
        f"98,{total},1,{account_records + 2}/",
        f"99,{total},1,{account_records + 4}/",
    ]
    return ("\n".join(lines) + "\n").encode()
