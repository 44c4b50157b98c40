"""The back-office lists and searches at scale, for `make bench`: each page requested many
times through Django's test Client, signed in as staff of the role that uses it (with
TOTP, as the admin requires), beside the floor: the bench's trivial signed-in page,
requested the same way. p50 and p95 in milliseconds."""

import statistics
import time

from accounts.models import User

BENCH_TOTP_SECRET = "63KKWBVYI7WBCHAEZFFTJML44ZVL2PAX"  # noqa: S105 - scratch database only
WARMUP = 3

REFUNDS = "/admin/refunds/refund/"
CLOSURES = "/admin/refunds/closure/"
STATEMENTS = "/admin/accounts/directbillstatement/"
ACCOUNTS = "/admin/accounts/customeraccount/"


def staff_member(role: str) -> User:
    """A staff member of `role` with TOTP enrolled (staff without it are sent to set it up)."""
    from allauth.mfa.totp.internal.auth import TOTP
    from django.contrib.auth.models import Group

    email = f"bench-{role.lower().replace(' ', '-')}@bench.test"
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, is_staff=True)
        TOTP.activate(user, BENCH_TOTP_SECRET)
        user.groups.add(Group.objects.get(name=role))
    return user


def search_terms() -> dict:
    """What staff type, read back from rows in the middle of the filled tables."""
    from refunds.models import Closure, Refund

    closure = Closure.objects.select_related("account__holder").order_by("id")[
        Closure.objects.count() // 2
    ]
    holder = closure.account.holder
    check = (
        Refund.objects.filter(check_number__isnull=False, closure_id__gte=closure.pk)
        .order_by("closure_id", "id")
        .first()
    )
    billed = (
        Closure.objects.select_related("account__holder")
        .filter(pk__gte=closure.pk, final_statement__isnull=False)
        .order_by("pk")
        .first()
    )
    return {
        "reference": closure.reference,
        "reference_start": closure.reference[:7].lower(),
        "account": closure.account.number,
        "email": holder.email,
        "name": f"{holder.first_name} {holder.last_name}",
        "check": check.check_number,
        "payee": check.payee_name,
        "billed_account": billed.account.number,
        "billed_email": billed.account.holder.email.split("@")[0],
    }


def cases(terms: dict) -> list[tuple[str, str, str, dict]]:
    """(what, role, path, query) for every list and search of issue 13."""
    from refunds.roles import AUDITOR, REFUND_OPERATIONS, SUPPORT

    return [
        ("list: refunds", REFUND_OPERATIONS, REFUNDS, {}),
        ("list: checks", REFUND_OPERATIONS, REFUNDS, {"method__exact": "check"}),
        ("list: closures", AUDITOR, CLOSURES, {}),
        ("list: final statements", REFUND_OPERATIONS, STATEMENTS, {"is_final__exact": "1"}),
        ("list: accounts", SUPPORT, ACCOUNTS, {}),
        ("search refunds: exact reference", REFUND_OPERATIONS, REFUNDS, {"q": terms["reference"]}),
        (
            "search refunds: reference prefix",
            REFUND_OPERATIONS,
            REFUNDS,
            {"q": terms["reference_start"]},
        ),
        ("search refunds: check number", REFUND_OPERATIONS, REFUNDS, {"q": terms["check"]}),
        ("search refunds: account number", REFUND_OPERATIONS, REFUNDS, {"q": terms["account"]}),
        ("search refunds: payee (trigram)", REFUND_OPERATIONS, REFUNDS, {"q": terms["payee"]}),
        ("search closures: exact reference", AUDITOR, CLOSURES, {"q": terms["reference"]}),
        ("search closures: reference prefix", AUDITOR, CLOSURES, {"q": terms["reference_start"]}),
        ("search closures: account number", AUDITOR, CLOSURES, {"q": terms["account"]}),
        ("search closures: email", AUDITOR, CLOSURES, {"q": terms["email"]}),
        ("search accounts: name (trigram)", SUPPORT, ACCOUNTS, {"q": terms["name"]}),
        ("search accounts: account number", SUPPORT, ACCOUNTS, {"q": terms["account"]}),
        ("search accounts: email", SUPPORT, ACCOUNTS, {"q": terms["email"]}),
        ("search accounts: exact reference", SUPPORT, ACCOUNTS, {"q": terms["reference"]}),
        (
            "search statements: account number",
            REFUND_OPERATIONS,
            STATEMENTS,
            {"q": terms["billed_account"]},
        ),
        (
            "search statements: email prefix",
            REFUND_OPERATIONS,
            STATEMENTS,
            {"q": terms["billed_email"]},
        ),
    ]


def percentiles(times: list[float]) -> dict:
    ordered = sorted(times)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000, 1),
    }


def warmed(client, path: str, query: dict) -> None:
    for _ in range(WARMUP):
        response = client.get(path, query)
        if response.status_code != 200:
            raise RuntimeError(f"{path} {query}: status {response.status_code}")


def measure_admin(repetitions: int) -> dict:
    """Every case of `cases` and the floor, each timed `repetitions` times."""
    terms = search_terms()
    return {"terms": terms, **measure_pages(cases(terms), repetitions)}


def measure_pages(page_cases: list[tuple[str, str, str, dict]], repetitions: int) -> dict:
    """Each (what, role, path, query) of `page_cases` and the floor, `repetitions` times."""
    from django.test import Client

    clients: dict[str, Client] = {}
    for _what, role, path, query in page_cases:
        if role not in clients:
            clients[role] = Client()
            clients[role].force_login(staff_member(role))
            warmed(clients[role], "/bench/floor/", {})
        warmed(clients[role], path, query)
    # Round by round, each page once and the floor once, so a busy moment on the shared
    # machine weighs on both alike.
    times: dict[str, list[float]] = {what: [] for what, *_ in page_cases}
    floor_times: list[float] = []
    for _ in range(repetitions):
        for what, role, path, query in page_cases:
            started = time.perf_counter()
            clients[role].get(path, query)
            times[what].append(time.perf_counter() - started)
            started = time.perf_counter()
            clients[role].get("/bench/floor/")
            floor_times.append(time.perf_counter() - started)
    return {
        "floor": {**percentiles(floor_times), "samples": len(floor_times)},
        "pages": [
            {"what": what, "query": query, **percentiles(times[what]), "samples": repetitions}
            for what, _role, _path, query in page_cases
        ],
    }
