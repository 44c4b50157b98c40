"""My Account and D1 (the first Delete Account step) under gunicorn, for `make bench`.

Two holders with AdvanceConnect, one with 10 ledger rows and one with 100,000 (written by
`ledger_entries_post`, which keeps the balance), each signed in through the login form of
a gunicorn serving the scratch database with persistent connections (CONN_MAX_AGE). A
threaded client with one keep-alive connection per thread requests each page for a fixed
time; requests per second and p50 latency, beside the bench's trivial signed-in page and
its least holder page (bench/urls.py)."""

import datetime as dt
import http.client
import re
import statistics
import threading
import time
import urllib.parse

PASSWORD = "bench-holder-password-2026"  # noqa: S105 - scratch database only
PAGES = {"my_account": "/account/", "d1": "/settings/security/delete/review/"}
FLOOR = "/bench/floor/"
LEAST_HOLDER_PAGE = "/bench/least-holder-page/"


def holders_with_history(rows_each: list[int]) -> list[str]:
    """A holder per entry of `rows_each` with that many ledger rows; their emails."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from accounts.models import (
        AdvanceConnect,
        CustomerAccount,
        LedgerEntry,
        MailingAddress,
        PhoneNumber,
        PurchaseMethod,
        User,
    )
    from accounts.services import ledger_entries_post

    now = timezone.now()
    emails = []
    for rows in rows_each:
        email = f"bench-holder-{rows}@bench.test"
        emails.append(email)
        if User.objects.filter(email=email).exists():  # a kept database (BENCH_REUSE)
            continue
        user = User.objects.create(
            email=email,
            first_name="Bench",
            last_name=f"Holder {rows}",
            password=make_password(PASSWORD),
        )
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        account = CustomerAccount.objects.create(
            holder=user,
            number=f"99{rows:08d}",
            service_state="TX",
            opened_at=now - dt.timedelta(days=2000),
            last_activity_at=now - dt.timedelta(hours=1),
        )
        MailingAddress.objects.create(
            account=account,
            line1="1200 E 6TH ST",
            city="AUSTIN",
            state="TX",
            zip_code="78702",
            created_at=account.opened_at,
        )
        PhoneNumber.objects.create(account=account, number="+15125550199")
        prepaid = AdvanceConnect.objects.create(account=account, opened_at=account.opened_at)
        # A deposit every third row, calls between (settled but for the last few hours').
        ledger_entries_post(
            entries=[
                LedgerEntry(
                    advance_connect=prepaid,
                    kind=LedgerEntry.Kind.DEPOSIT if n % 3 == 0 else LedgerEntry.Kind.CALL_CHARGE,
                    method=PurchaseMethod.ONLINE_CARD if n % 3 == 0 else "",
                    card_brand="Visa" if n % 3 == 0 else "",
                    card_last4="4242" if n % 3 == 0 else "",
                    amount_cents=500 if n % 3 == 0 else 105,
                    occurred_at=now - dt.timedelta(minutes=n + 1),
                    number_called="" if n % 3 == 0 else "+15125550100",
                    settled_at=None if n % 3 == 0 or n < 6 else now,
                )
                for n in range(rows)
            ]
        )
    return emails


def sign_in(port: int, email: str) -> str:
    """The Cookie header of a session signed in through the login form."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/accounts/login/")
    response = connection.getresponse()
    page = response.read().decode()
    csrf_cookie = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie") or "")[1]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    body = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "login": email, "password": PASSWORD}
    )
    connection.request(
        "POST",
        "/accounts/login/",
        body=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={csrf_cookie}",
            "Referer": f"http://127.0.0.1:{port}/accounts/login/",
        },
    )
    response = connection.getresponse()
    response.read()
    session = re.search(r"sessionid=([^;]+)", response.getheader("Set-Cookie") or "")
    if response.status != 302 or session is None:
        raise RuntimeError(f"sign-in of {email} failed: status {response.status}")
    connection.close()
    return f"csrftoken={csrf_cookie}; sessionid={session[1]}"


def load(port: int, path: str, cookie: str, *, threads: int, seconds: float) -> dict:
    """`threads` keep-alive clients requesting `path` for `seconds`: requests per second,
    p50 latency; any answer but 200 fails the run."""
    stop = time.perf_counter() + seconds
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors: list[str] = []

    def client(mine: list[float]) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.perf_counter() < stop:
            started = time.perf_counter()
            connection.request("GET", path, headers={"Cookie": cookie})
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                errors.append(f"{path}: status {response.status}")
                return
            mine.append(time.perf_counter() - started)
        connection.close()

    began = time.perf_counter()
    workers = [threading.Thread(target=client, args=(mine,)) for mine in latencies]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - began
    if errors:
        raise RuntimeError(errors[0])
    every = [latency for mine in latencies for latency in mine]
    return {
        "requests": len(every),
        "seconds": elapsed,
        "rps": round(len(every) / elapsed, 1),
        "p50_ms": round(statistics.median(every) * 1000, 1),
    }


def combined(parts: list[dict]) -> dict:
    """`load`'s figures over several slices: requests over their time, the median p50."""
    requests = sum(part["requests"] for part in parts)
    seconds = sum(part["seconds"] for part in parts)
    return {
        "requests": requests,
        "seconds": seconds,
        "rps": round(requests / seconds, 1),
        "p50_ms": statistics.median(part["p50_ms"] for part in parts),
    }
