"""Demo people and their accounts for `make run` and the browser tests. Never loaded in
production. Amounts are integer cents; dates are relative to `now`."""

import datetime as dt
import functools
import random
import time
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.contrib.auth.hashers import make_password

from .models import (
    AdvanceConnect,
    CustomerAccount,
    DirectBill,
    DirectBillCharge,
    DirectBillPayment,
    DirectBillStatement,
    EMessaging,
    LedgerEntry,
    MailingAddress,
    PhoneNumber,
    PurchaseMethod,
    SecurusDebit,
    StampEntry,
    TopUpEnrolment,
    User,
    VideoSession,
    VideoSubscription,
)
from .services import Activity, account_record_activity, ledger_entries_post

DEMO_PASSWORD = "demo-portal-2026"  # noqa: S105 - demo data only
# A fixed TOTP secret so anyone trying the demo can add it to an authenticator app.
# 160 bits (32 base32 characters): RFC 4226 asks for at least 128 and recommends 160,
# and TOTP libraries that hold to it refuse shorter secrets.
DEMO_TOTP_SECRET = "OQNIIC3TVL25WY56SBCRITRRT2DJNIAD"  # noqa: S105 - demo data only

DEMO_HOLDERS = [
    ("card@demo.test", "Carmen", "Diaz"),
    ("check@demo.test", "Charles", "Okafor"),
    ("directbill@demo.test", "Dana", "Brooks"),
    ("video@demo.test", "Vanessa", "Reyes"),
    ("nm@demo.test", "Nora", "Martinez"),
]
DEMO_STAFF = [
    ("support@demo.test", "Sam", "Support", False),
    ("refunds@demo.test", "Rita", "Refunds", False),
    ("auditor@demo.test", "Alex", "Auditor", False),
    ("admin@demo.test", "Ada", "Admin", True),
]


@functools.cache
def demo_password_hash() -> str:
    """The demo password hashed once: every demo user shares it, and hashing is slow."""
    return make_password(DEMO_PASSWORD)


def demo_user(email, first_name, last_name, *, is_staff=False, is_superuser=False):
    """Create (or find) a demo user with a verified email and the demo password."""
    user, created = User.objects.get_or_create(
        email=email,
        defaults={
            "first_name": first_name,
            "last_name": last_name,
            "is_staff": is_staff,
            "is_superuser": is_superuser,
        },
    )
    if created:
        user.password = demo_password_hash()
        user.save(update_fields=["password"])
    EmailAddress.objects.get_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


def enrol_demo_totp(user):
    """Give a demo staff member TOTP with the fixed demo secret, plus recovery codes."""
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, DEMO_TOTP_SECRET)
        RecoveryCodes.activate(user)


def demo_totp_code() -> str:
    """The six-digit code an authenticator app shows now for the demo staff's secret."""
    return format_hotp_value(hotp_value(DEMO_TOTP_SECRET, int(time.time() // 30)))


def seed_people():
    holders = {email: demo_user(email, first, last) for email, first, last in DEMO_HOLDERS}
    staff = {}
    for email, first, last, superuser in DEMO_STAFF:
        user = demo_user(email, first, last, is_staff=True, is_superuser=superuser)
        enrol_demo_totp(user)
        staff[email] = user
    return holders, staff


# --- the demo holders' accounts, one scenario each ---

DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)
Kind = LedgerEntry.Kind


def _open_account(holder, *, number, state, zone, address, phone, now):
    opened_at = now - 400 * DAY
    account = CustomerAccount.objects.create(
        holder=holder,
        number=number,
        service_state=state,
        time_zone=zone,
        opened_at=opened_at,
        last_activity_at=opened_at,
    )
    line1, line2, city, zip_code = address
    MailingAddress.objects.create(
        account=account,
        line1=line1,
        line2=line2,
        city=city,
        state=state,
        zip_code=zip_code,
        source=MailingAddress.Source.IMPORT,
        created_at=opened_at,
    )
    PhoneNumber.objects.create(account=account, number=phone)
    return account


def _card(amount_cents, at, brand="Visa", last4="4242"):
    return LedgerEntry(
        kind=Kind.DEPOSIT,
        amount_cents=amount_cents,
        occurred_at=at,
        method=PurchaseMethod.ONLINE_CARD,
        card_brand=brand,
        card_last4=last4,
        processor_token=f"demo_{last4}_{at:%Y%m%d%H%M}",
    )


def _deposit(amount_cents, at, method):
    return LedgerEntry(kind=Kind.DEPOSIT, amount_cents=amount_cents, occurred_at=at, method=method)


def _call(amount_cents, at, number, *, settled=True):
    return LedgerEntry(
        kind=Kind.CALL_CHARGE,
        amount_cents=amount_cents,
        occurred_at=at,
        number_called=number,
        settled_at=at + 12 * HOUR if settled else None,
    )


def _advance_connect(account, entries):
    """AdvanceConnect with its ledger; the latest deposit or call is the last activity."""
    advance_connect = AdvanceConnect.objects.create(account=account, opened_at=account.opened_at)
    for entry in entries:
        entry.advance_connect = advance_connect
    ledger_entries_post(entries=entries)
    latest = max(entries, key=lambda entry: entry.occurred_at)
    kind = Activity.DEPOSIT if latest.kind == Kind.DEPOSIT else Activity.CALL_CHARGE
    account_record_activity(account=account, kind=kind, at=latest.occurred_at)
    return advance_connect


def _settled_calls(amounts, *, first, number):
    """Settled calls, one every two days from `first` on."""
    return [_call(cents, first + 2 * DAY * i, number) for i, cents in enumerate(amounts)]


def seed_card_holder(holder, now):
    """Card deposits (Visa 4242 last), $42.50 after settled calls, $4.20 pending, TX."""
    phone = "+15125550101"
    account = _open_account(
        holder,
        number="3000000001",
        state="TX",
        zone="America/Chicago",
        address=("1200 E 6TH ST", "", "AUSTIN", "78702"),
        phone=phone,
        now=now,
    )
    settled = [630, 945, 1050, 315, 840, 1260, 735, 525, 1155, 795]  # 8250
    _advance_connect(
        account,
        [
            _card(5000, now - 60 * DAY),
            _card(5000, now - 30 * DAY),
            _card(2500, now - 2 * DAY),
            *_settled_calls(settled, first=now - 25 * DAY, number=phone),
            _call(315, now - 5 * HOUR, phone, settled=False),
            _call(105, now - 2 * HOUR, phone, settled=False),
        ],
    )
    for kind, days in ((TopUpEnrolment.Kind.TEXTPAY, 90), (TopUpEnrolment.Kind.AUTOPAY, 60)):
        TopUpEnrolment.objects.create(account=account, kind=kind, enrolled_at=now - days * DAY)


def seed_check_holder(holder, now):
    """Card deposits first, then MoneyGram last: $51.30 left; an apartment address."""
    phone = "+14045550102"
    account = _open_account(
        holder,
        number="3000000002",
        state="GA",
        zone="America/New_York",
        address=("455 PEACHTREE ST NE", "APT 4B", "ATLANTA", "30308"),
        phone=phone,
        now=now,
    )
    _advance_connect(
        account,
        [
            _card(2500, now - 90 * DAY, "Mastercard", "5454"),
            _card(2500, now - 50 * DAY, "Mastercard", "5454"),
            _deposit(4000, now - 6 * DAY, PurchaseMethod.MONEYGRAM),
            *_settled_calls([1890, 1260, 720], first=now - 40 * DAY, number=phone),
        ],
    )


def seed_direct_bill_holder(holder, now):
    """Direct Bill: last month's statement of $29.40 paid; $11.55 of calls unbilled."""
    phone = "+19165550103"
    account = _open_account(
        holder,
        number="3000000003",
        state="CA",
        zone="America/Los_Angeles",
        address=("2200 J ST", "", "SACRAMENTO", "95816"),
        phone=phone,
        now=now,
    )
    statement_date = (now - 25 * DAY).date()
    direct_bill = DirectBill.objects.create(
        account=account, billing_day=min(statement_date.day, 28), opened_at=account.opened_at
    )
    statement = DirectBillStatement.objects.create(
        direct_bill=direct_bill,
        statement_date=statement_date,
        amount_cents=2940,
        due_date=statement_date + 20 * DAY,
        status=DirectBillStatement.Status.PAID,
        created_at=now - 25 * DAY,
    )
    on_statement = [(1260, 45), (945, 37), (735, 30)]  # 2940
    this_cycle = [(315, 6), (630, 3), (210, 1)]  # 1155, unbilled
    DirectBillCharge.objects.bulk_create(
        DirectBillCharge(
            direct_bill=direct_bill,
            occurred_at=now - days * DAY,
            number_called=phone,
            amount_cents=cents,
            statement=on,
        )
        for charges, on in ((on_statement, statement), (this_cycle, None))
        for cents, days in charges
    )
    DirectBillPayment.objects.create(statement=statement, amount_cents=2940, paid_at=now - 16 * DAY)
    account_record_activity(account=account, kind=Activity.CALL_CHARGE, at=now - DAY)


def seed_video_holder(holder, now):
    """Funded by mail; two VideoConnect sessions ahead, a subscription, 12 stamps, Debit."""
    phone = "+16025550104"
    account = _open_account(
        holder,
        number="3000000004",
        state="AZ",
        zone="America/Phoenix",
        address=("1 E WASHINGTON ST", "", "PHOENIX", "85004"),
        phone=phone,
        now=now,
    )
    _advance_connect(
        account,
        [
            _deposit(3000, now - 30 * DAY, PurchaseMethod.MAIL),
            *_settled_calls([420, 630], first=now - 20 * DAY, number=phone),
        ],
    )
    facility = "Maricopa County Lower Buckeye Jail"
    VideoSubscription.objects.create(
        account=account,
        plan="VideoConnect Monthly",
        monthly_price_cents=999,
        started_at=now - 60 * DAY,
    )
    zone = ZoneInfo(account.time_zone)
    for days in (3, 10):
        day = (now + days * DAY).astimezone(zone).date()
        VideoSession.objects.create(
            account=account,
            starts_at=dt.datetime.combine(day, dt.time(15), tzinfo=zone),  # 3 p.m. local
            facility=facility,
            incarcerated_name="Luis Reyes",
            amount_paid_cents=1295,
        )
    emessaging = EMessaging.objects.create(account=account)
    StampEntry.objects.bulk_create(
        [
            StampEntry(
                emessaging=emessaging,
                kind=StampEntry.Kind.PURCHASE,
                stamps=15,
                amount_cents=750,
                occurred_at=now - 40 * DAY,
            ),
            StampEntry(
                emessaging=emessaging,
                kind=StampEntry.Kind.USE,
                stamps=3,
                occurred_at=now - 10 * DAY,
            ),
        ]
    )
    SecurusDebit.objects.create(
        account=account, incarcerated_name="Luis Reyes", facility=facility, balance_cents=2500
    )


def seed_new_mexico_holder(holder, now):
    """NM, $17.60 left, nothing since a call 175 days ago: inactivity closure is near."""
    phone = "+15055550105"
    last_call = now - 175 * DAY
    account = _open_account(
        holder,
        number="3000000005",
        state="NM",
        zone="America/Denver",
        address=("400 MARQUETTE AVE NW", "", "ALBUQUERQUE", "87102"),
        phone=phone,
        now=now,
    )
    _advance_connect(
        account,
        [
            _card(4000, now - 230 * DAY, "Mastercard", "5100"),
            _call(735, now - 200 * DAY, phone),
            _call(525, now - 190 * DAY, phone),
            _call(980, last_call, phone),
        ],
    )
    # rule N2: the last activity is that call, never the seeding itself
    CustomerAccount.objects.filter(pk=account.pk).update(
        last_activity_at=last_call, last_activity_kind=Activity.CALL_CHARGE
    )


DEMO_SCENARIOS = {
    "card@demo.test": seed_card_holder,
    "check@demo.test": seed_check_holder,
    "directbill@demo.test": seed_direct_bill_holder,
    "video@demo.test": seed_video_holder,
    "nm@demo.test": seed_new_mexico_holder,
}


def seed_accounts(holders, *, now) -> list[str]:
    """Give each demo holder the account of their scenario, unless they have one.
    Returns the emails of those given one now."""
    with_account = set(
        CustomerAccount.objects.filter(holder__in=holders.values()).values_list(
            "holder_id", flat=True
        )
    )
    seeded = []
    for email, seed in DEMO_SCENARIOS.items():
        if holders[email].pk not in with_account:
            seed(holders[email], now)
            seeded.append(email)
    return seeded


# --- accounts about to be closed, for the closed-account stories of refunds.demo ---


@dataclass(frozen=True)
class Place:
    """Where a demo account is: service state, time zone, address on record, phone."""

    state: str
    zone: str
    line1: str
    city: str
    zip_code: str
    phone: str
    line2: str = ""


def _open_account_at(holder, *, number, place, until):
    return _open_account(
        holder,
        number=number,
        state=place.state,
        zone=place.zone,
        address=(place.line1, place.line2, place.city, place.zip_code),
        phone=place.phone,
        now=until,
    )


def seed_prepaid_account(
    holder, *, number, place, balance_cents, method, until, card_token=""
) -> CustomerAccount:
    """AdvanceConnect with `balance_cents` left at `until`: one deposit by `method`
    40 days before, then two settled calls."""
    account = _open_account_at(holder, number=number, place=place, until=until)
    calls = [735, 525]
    cents, at = balance_cents + sum(calls), until - 40 * DAY
    if method == PurchaseMethod.ONLINE_CARD:
        deposit = _card(cents, at)
        deposit.processor_token = card_token or deposit.processor_token
    else:
        deposit = _deposit(cents, at, method)
    _advance_connect(
        account, [deposit, *_settled_calls(calls, first=until - 30 * DAY, number=place.phone)]
    )
    return account


def seed_direct_bill_account(holder, *, number, place, unbilled, until) -> CustomerAccount:
    """Direct Bill with the calls `unbilled` (cents) made in the weeks before `until`
    and not yet on a statement."""
    account = _open_account_at(holder, number=number, place=place, until=until)
    direct_bill = DirectBill.objects.create(account=account, opened_at=account.opened_at)
    DirectBillCharge.objects.bulk_create(
        DirectBillCharge(
            direct_bill=direct_bill,
            occurred_at=until - 3 * (i + 1) * DAY,
            number_called=place.phone,
            amount_cents=cents,
        )
        for i, cents in enumerate(unbilled)
    )
    account_record_activity(account=account, kind=Activity.CALL_CHARGE, at=until - 3 * DAY)
    return account


# --- extra random holders, so that staff lists look real ---

FIRST_NAMES = ["Ana", "Ben", "Carla", "Darnell", "Elena", "Farid", "Grace", "Hector", "Imani"]
LAST_NAMES = ["Alvarez", "Baker", "Chen", "Dominguez", "Ellis", "Fofana", "Garcia", "Hughes"]
PLACES = [  # state, time zone, city, ZIP, area code
    ("TX", "America/Chicago", "HOUSTON", "77002", "713"),
    ("TX", "America/Chicago", "EL PASO", "79901", "915"),
    ("NM", "America/Denver", "LAS CRUCES", "88001", "575"),
    ("GA", "America/New_York", "MACON", "31201", "478"),
    ("CA", "America/Los_Angeles", "FRESNO", "93721", "559"),
    ("AZ", "America/Phoenix", "TUCSON", "85701", "520"),
]
STREETS = ["MAIN ST", "OAK AVE", "CEDAR LN", "MARTIN LUTHER KING JR BLVD", "2ND ST"]
METHODS = [
    PurchaseMethod.ONLINE_CARD,
    PurchaseMethod.ONLINE_CARD,
    PurchaseMethod.WESTERN_UNION,
    PurchaseMethod.MONEYGRAM,
    PurchaseMethod.MAIL,
]


def _random_ledger(rng, now, phone):
    """1 to 3 deposits, then settled calls that never spend more than was deposited."""
    entries, funds = [], 0
    for _ in range(rng.randint(1, 3)):
        at = now - rng.randint(20, 300) * DAY
        cents = rng.choice([1000, 2000, 2500, 5000])
        method = rng.choice(METHODS)
        if method == PurchaseMethod.ONLINE_CARD:
            entries.append(_card(cents, at, "Visa", f"{rng.randint(0, 9999):04d}"))
        else:
            entries.append(_deposit(cents, at, method))
        funds += cents
    first = min(entry.occurred_at for entry in entries)
    for _ in range(rng.randint(0, 10)):
        cents = rng.randint(1, 20) * 105
        if cents > funds:
            break
        funds -= cents
        at = first + rng.randint(1, (now - first).days) * DAY
        entries.append(_call(cents, min(at, now - DAY), phone))
    return entries


def seed_random_holders(count, *, now):
    """`count` extra holders, `holder00001@demo.test` on, each with AdvanceConnect.
    Holder n is the same on every run; those already there are skipped."""
    emails = [f"holder{n:05d}@demo.test" for n in range(1, count + 1)]
    existing = set(User.objects.filter(email__in=emails).values_list("email", flat=True))
    todo = [(n, email) for n, email in enumerate(emails, start=1) if email not in existing]
    if not todo:
        return 0
    password = demo_password_hash()
    rngs = {n: random.Random(n) for n, _ in todo}  # noqa: S311 - demo data only
    users = User.objects.bulk_create(
        User(
            email=email,
            first_name=rngs[n].choice(FIRST_NAMES),
            last_name=rngs[n].choice(LAST_NAMES),
            password=password,
        )
        for n, email in todo
    )
    EmailAddress.objects.bulk_create(
        EmailAddress(user=user, email=user.email, verified=True, primary=True) for user in users
    )
    places = {n: rngs[n].choice(PLACES) for n, _ in todo}
    accounts = CustomerAccount.objects.bulk_create(
        CustomerAccount(
            holder=user,
            number=f"4{n:09d}",
            service_state=places[n][0],
            time_zone=places[n][1],
            opened_at=now - 400 * DAY,
            last_activity_at=now - 400 * DAY,
        )
        for (n, _), user in zip(todo, users, strict=True)
    )
    phones = {n: f"+1{places[n][4]}555{n % 10000:04d}" for n, _ in todo}
    MailingAddress.objects.bulk_create(
        MailingAddress(
            account=account,
            line1=f"{rngs[n].randint(1, 9999)} {rngs[n].choice(STREETS)}",
            city=places[n][2],
            state=places[n][0],
            zip_code=places[n][3],
            source=MailingAddress.Source.IMPORT,
            created_at=account.opened_at,
        )
        for (n, _), account in zip(todo, accounts, strict=True)
    )
    PhoneNumber.objects.bulk_create(
        PhoneNumber(account=account, number=phones[n])
        for (n, _), account in zip(todo, accounts, strict=True)
    )
    prepaid = AdvanceConnect.objects.bulk_create(
        AdvanceConnect(account=account, opened_at=account.opened_at) for account in accounts
    )
    entries = []
    for (n, _), account, advance_connect in zip(todo, accounts, prepaid, strict=True):
        ledger = _random_ledger(rngs[n], now, phones[n])
        for entry in ledger:
            entry.advance_connect = advance_connect
        latest = max(ledger, key=lambda entry: entry.occurred_at)
        account.last_activity_at = latest.occurred_at
        account.last_activity_kind = (
            Activity.DEPOSIT if latest.kind == Kind.DEPOSIT else Activity.CALL_CHARGE
        )
        entries += ledger
    ledger_entries_post(entries=entries)
    CustomerAccount.objects.bulk_update(
        accounts, ["last_activity_at", "last_activity_kind"], batch_size=2000
    )
    return len(todo)
