import io
import os
import shutil

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection, connections
from django.db.backends.postgresql.operations import DatabaseOperations as PostgresOperations

from portal.actors import SYSTEM
from refunds.gateway import FakeCardGateway
from refunds.services import closure_confirm
from refunds.services.transitions import (
    refund_mark_issued,
    refund_mark_mailed,
    refund_mark_returned,
)
from tests.factories import AdvanceConnectFactory, LedgerEntryFactory
from tests.helpers import APP_ROLE, AS_OWNER_FUNCTION

# Browser tests drive the live server from the test thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """SPEC §5 least privilege, proved by the whole suite: with PORTAL_TEST_APP_ROLE set
    (CI does), the owner creates and migrates the test database, `create_db_roles` grants
    the app role exactly what production gets, and every test then runs logged in as the
    app role. One test-only addition, in the test database alone: an owner function
    (SECURITY DEFINER) through which the flush between transactional tests empties the
    tables, the audit trail included, and tests act as a DBA would."""
    if not APP_ROLE or connection.vendor != "postgresql":
        yield
        return
    owner = connection.settings_dict["USER"]
    with django_db_blocker.unblock():
        call_command("create_db_roles", owner=owner, app=APP_ROLE, stdout=io.StringIO())
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE FUNCTION {AS_OWNER_FUNCTION}(statement text) RETURNS void "
                "LANGUAGE plpgsql SECURITY DEFINER AS $$ BEGIN EXECUTE statement; END $$"
            )
        _log_in_as(APP_ROLE)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(PostgresOperations, "sql_flush", _flush_through_owner())
        yield
    with django_db_blocker.unblock():
        _log_in_as(owner)


def _log_in_as(role):
    # The settings dict is shared with settings.DATABASES, so the live server's threads
    # log in as `role` too.
    for each in connections.all():
        each.close()
        each.settings_dict["USER"] = role


def _flush_through_owner():
    plain = PostgresOperations.sql_flush

    def sql_flush(self, *args, **kwargs):
        return [
            "SELECT {}('{}')".format(AS_OWNER_FUNCTION, statement.replace("'", "''"))
            for statement in plain(self, *args, **kwargs)
        ]

    return sql_flush


@pytest.fixture(scope="session", autouse=True)
def _translations_compiled():
    """Serve the Spanish catalogue as it stands in locale/, as `make install` does (B5)."""
    call_command("compile_translations", stdout=io.StringIO())


@pytest.fixture(autouse=True)
def _fresh_card_gateway():
    """The fake card processor remembers refunds in memory; each test starts clean."""
    FakeCardGateway.reset()
    yield
    FakeCardGateway.reset()


@pytest.fixture(autouse=True)
def _clear_cache():
    """allauth keeps rate-limit counters in the cache; each test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _audit_checkpoints_in_tmp(settings, tmp_path):
    """Sweeps write audit checkpoints (rule S5.audit); each test keeps its own, out of the tree."""
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "audit-checkpoints"


@pytest.fixture(autouse=True)
def _export_files_in_tmp(settings, tmp_path):
    """Background exports write their files (rule S5.exports) under each test's own
    directory, out of the tree."""
    settings.EXPORT_FILES_DIR = tmp_path / "exports"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """Every browser test runs on a small phone screen (SPEC §1: works at 360 px)."""
    return {**browser_context_args, "viewport": {"width": 360, "height": 740}}


@pytest.fixture
def returned_check(django_capture_on_commit_callbacks):
    """SPEC §3: a $61.50 refund check (last deposit by mail) mailed to Ms Okafor and
    returned undeliverable: what B3 claims and N5 payouts start from."""
    ac = AdvanceConnectFactory(account__holder__last_name="Okafor")
    LedgerEntryFactory(advance_connect=ac, by_mail=True, amount_cents=6150)
    with django_capture_on_commit_callbacks(execute=True):
        check = closure_confirm(account=ac.account, actor=SYSTEM).refunds.get()
        check = refund_mark_issued(refund=check, actor=SYSTEM, check_number="500123")
        check = refund_mark_mailed(refund=check, actor=SYSTEM)
        return refund_mark_returned(refund=check, actor=SYSTEM, reason="Moved, left no address")
