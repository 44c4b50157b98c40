"""Holders closing their accounts at once, for `make bench`: do closures wait on each
other for the audit trail?

Accounts shaped like the demo's holders (AdvanceConnect with deposits by card, Western
Union, MoneyGram or mail, settled calls, an address and a phone: `seed_random_holders`)
are closed by `closure_confirm` as the Delete Account flow does (the holder as actor, the
address on record), by 1 process and then by 4 at once. A 5th connection samples
`pg_stat_activity` for the closing backends every few milliseconds: the share of samples
waiting on a lock (`Lock`/`advisory` is the audit chain's) is time spent waiting on each
other. Then the audit trail is sealed (where a sealer exists), checkpointed and verified."""

import json
import sys
import threading
import time
from collections import Counter

SAMPLE_EVERY = 0.005


def prepare(count: int) -> list[int]:
    """`count` open accounts to close, made as the demo makes its extra holders."""
    from django.utils import timezone

    from accounts.demo import seed_random_holders
    from accounts.models import CustomerAccount

    seed_random_holders(count, now=timezone.now())
    return list(
        CustomerAccount.objects.filter(holder__email__endswith="@demo.test", status="open")
        .order_by("id")
        .values_list("id", flat=True)[:count]
    )


def close_each(ids: list[int]) -> None:
    """A closing process: report the backend's pid, wait for `go` on stdin, close each
    account as its holder would, then report the time it took."""
    from django.db import connection

    from accounts.models import CustomerAccount
    from accounts.selectors import current_address
    from refunds.services.closure import closure_confirm

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        print(json.dumps({"pid": cursor.fetchone()[0]}), flush=True)
    sys.stdin.readline()
    started = time.perf_counter()
    for account in CustomerAccount.objects.select_related("holder").filter(pk__in=ids):
        closure_confirm(account=account, actor=account.holder, address=current_address(account))
    print(json.dumps({"seconds": time.perf_counter() - started}), flush=True)


class Sampler:
    """Samples the wait events of `pids` from its own connection until stopped."""

    def __init__(self, database_url: str, pids: list[int]):
        import psycopg

        self.connection = psycopg.connect(database_url, autocommit=True)
        self.pids = pids
        self.waits: Counter[str] = Counter()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        with self.connection.cursor() as cursor:
            while not self._stop.is_set():
                cursor.execute(
                    "SELECT wait_event_type, wait_event FROM pg_stat_activity "
                    "WHERE pid = ANY(%s) AND state <> 'idle'",
                    [self.pids],
                )
                for wait_type, wait_event in cursor.fetchall():
                    self.samples += 1
                    if wait_type in ("Lock", "LWLock"):
                        self.waits[f"{wait_type}/{wait_event}"] += 1
                time.sleep(SAMPLE_EVERY)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.connection.close()

    def report(self) -> dict:
        locked = sum(n for wait, n in self.waits.items() if wait.startswith("Lock/"))
        return {
            "samples": self.samples,
            "lock_share": round(locked / self.samples, 3) if self.samples else None,
            "advisory_share": (
                round(self.waits["Lock/advisory"] / self.samples, 3) if self.samples else None
            ),
            "waits": dict(self.waits.most_common()),
        }


def audit_check() -> dict:
    """Seal (if this version has a sealer), checkpoint, then verify the whole trail."""
    import io

    from django.core.management import call_command, get_commands
    from django.core.management.base import CommandError

    if "seal_audit_trail" in get_commands():
        call_command("seal_audit_trail", "--once", stdout=io.StringIO())
    call_command("write_audit_checkpoint", stdout=io.StringIO())
    out = io.StringIO()
    try:
        call_command("verify_audit_trail", stdout=out)
    except CommandError as broken:
        return {"intact": False, "report": str(broken)}
    return {"intact": True, "report": out.getvalue().strip()}
