"""New Mexico inactivity closures with a pinned clock (SPEC N1-N3, N6)."""

import contextlib
import datetime as dt

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.models import CustomerAccount
from accounts.services import Activity, account_keep_open, account_record_activity
from portal.business_calendar import business_date
from portal.models import AuditEvent
from refunds.models import Closure, InactivityLetter, InactivityNotice, Refund
from refunds.services.inactivity import (
    LetterRefused,
    inactive_accounts_close,
    inactivity_letter_mark_mailed,
    inactivity_notice_email,
    inactivity_notices_send,
    inactivity_schedule,
)
from tests.factories import AdvanceConnectFactory, LedgerEntryFactory, UserFactory

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.timezone.utc)


def day(n, hours=1):
    return START + dt.timedelta(days=n, hours=hours)


def nm_account_inactive_since(at, *, email=None):
    holder = {} if email is None else {"account__holder__email": email}
    ac = AdvanceConnectFactory(account__new_mexico=True, account__last_activity_at=at, **holder)
    LedgerEntryFactory(advance_connect=ac, amount_cents=2600, occurred_at=at)
    return ac.account


@pytest.fixture
def refunds_staff():
    return UserFactory(staff=True)


@pytest.fixture
def nm_account():
    return nm_account_inactive_since(START)


def run_daily(at):
    """One daily sweep at `at`; the emails it queues go out at once, at `at` too (the
    task does the same with the real clock)."""
    for notice in inactivity_notices_send(now=at):
        if notice.channel == InactivityNotice.Channel.EMAIL:
            inactivity_notice_email(notice_id=notice.pk, at=at)
    return inactive_accounts_close(now=at)


def closed_on(account):
    closure = Closure.objects.filter(account=account).first()
    return closure and business_date(closure.closed_at)


def notice_dates(account):
    return [
        (n.days_before, business_date(n.sent_at))
        for n in InactivityNotice.objects.filter(account=account).order_by("id")
    ]


def test_notified_at_day_150_and_173_and_closed_at_day_180(nm_account):
    """Rule N3: notified on time, the account closes on day 180."""
    for n in range(0, 150):
        run_daily(day(n))
    assert mail.outbox == []

    run_daily(day(150))
    assert len(mail.outbox) == 1
    assert "August 29, 2026" in mail.outbox[0].subject  # day 180
    for n in range(151, 173):
        run_daily(day(n))
    assert len(mail.outbox) == 1

    run_daily(day(173))
    assert len(mail.outbox) == 2
    assert "August 29, 2026" in mail.outbox[1].subject
    assert notice_dates(nm_account) == [(30, day(150).date()), (7, day(173).date())]
    for n in range(174, 180):
        assert run_daily(day(n)) == []

    closures = run_daily(day(180))
    assert len(closures) == 1
    closure = Closure.objects.get(account=nm_account)
    assert closure.reason == Closure.Reason.INACTIVITY
    assert closure.closed_by is None
    # rule N3: the balance is refunded by the E4 rule (last deposit by card here).
    refund = closure.refunds.get()
    assert (refund.method, refund.amount_cents) == (Refund.Method.CARD, 2600)
    nm_account.refresh_from_db()
    assert nm_account.status == CustomerAccount.Status.CLOSED


def test_first_seen_at_day_200_is_notified_and_closed_30_days_later_not_before(nm_account):
    """Rule N3: a sweep that first sees an account late notifies and moves the date."""
    assert run_daily(day(200)) == []
    assert notice_dates(nm_account) == [(30, day(200).date())]
    assert "October 18, 2026" in mail.outbox[0].subject  # day 230
    for n in range(201, 230):
        assert run_daily(day(n)) == []
    assert notice_dates(nm_account)[1] == (7, day(223).date())
    assert closed_on(nm_account) is None
    assert len(run_daily(day(230))) == 1
    assert closed_on(nm_account) == day(230).date()


def test_inactive_since_before_may_2023_is_notified_in_the_autumn_and_closed_28_october():
    """Rule N1: the clock starts on 1 May 2023 at the earliest."""
    account = nm_account_inactive_since(dt.datetime(2022, 9, 1, 15, tzinfo=dt.timezone.utc))
    first = dt.datetime(2023, 4, 25, 17, tzinfo=dt.timezone.utc)
    for n in range(0, 190):
        run_daily(first + dt.timedelta(days=n))
    assert notice_dates(account) == [(30, dt.date(2023, 9, 28)), (7, dt.date(2023, 10, 21))]
    assert closed_on(account) == dt.date(2023, 10, 28)
    assert "October 28, 2023" in mail.outbox[0].subject


def test_keep_my_account_open_restarts_the_clock_and_cancels_pending_notices(nm_account):
    """Rule N3: the button is activity; the period's pending notices never go out."""
    run_daily(day(150))
    pending = InactivityNotice.objects.create(
        account=nm_account,
        days_before=7,
        inactive_since=nm_account.last_activity_at,
        closes_on=day(180).date(),
        created_at=day(160),
    )
    account_keep_open(account=nm_account, actor=nm_account.holder, at=day(160))

    nm_account.refresh_from_db()
    assert nm_account.last_activity_kind == Activity.KEEP_OPEN
    assert AuditEvent.objects.filter(action="account.kept_open").count() == 1
    assert inactivity_notice_email(notice_id=pending.pk, at=day(161)) is None
    pending.refresh_from_db()
    assert pending.sent_at is None
    assert len(mail.outbox) == 1
    schedule = inactivity_schedule(account=nm_account, today=day(161).date())
    assert schedule.closes_on == day(340).date()
    for n in (173, 180, 200, 300):
        assert run_daily(day(n)) == []
    assert closed_on(nm_account) is None


def test_a_sign_in_at_day_170_restarts_the_clock(nm_account):
    run_daily(day(150))
    account_record_activity(account=nm_account, kind=Activity.SIGN_IN, at=day(170))
    for n in (173, 180, 200):
        assert run_daily(day(n)) == []
    # The new period gets its own notices and ends 180 days after the sign-in.
    run_daily(day(320))
    assert InactivityNotice.objects.filter(inactive_since=day(170)).count() == 1
    assert run_daily(day(349)) == []
    assert len(run_daily(day(350))) == 1


def test_no_email_on_record_queues_a_letter_and_only_a_mailed_letter_counts(
    django_capture_on_commit_callbacks, refunds_staff
):
    """Rule N3: a notice that cannot be emailed is a letter for staff to mail."""
    account = nm_account_inactive_since(START, email="")
    with django_capture_on_commit_callbacks() as callbacks:
        run_daily(day(150))
    assert callbacks == []  # no email task for a letter
    letter = InactivityLetter.objects.get()
    assert letter.channel == InactivityNotice.Channel.LETTER
    # Not mailed yet: the closure date slides, nothing closes.
    for n in range(151, 185):
        assert run_daily(day(n)) == []
    assert InactivityNotice.objects.count() == 1

    inactivity_letter_mark_mailed(notice=letter, actor=refunds_staff, at=day(185))
    letter.refresh_from_db()
    assert letter.closes_on == day(215).date()
    assert AuditEvent.objects.get(action="inactivity_letter.mailed").actor == refunds_staff
    for n in range(186, 215):
        assert run_daily(day(n)) == []
    assert len(run_daily(day(215))) == 1
    queued = InactivityNotice.objects.filter(account=account).order_by("id")
    assert [(n.days_before, n.created_at) for n in queued] == [(30, day(150)), (7, day(208))]


def test_a_letter_no_longer_needed_is_refused(refunds_staff):
    account = nm_account_inactive_since(START, email="")
    run_daily(day(150))
    account_record_activity(account=account, kind=Activity.DEPOSIT, at=day(151))
    with pytest.raises(LetterRefused, match="no longer needed"):
        inactivity_letter_mark_mailed(
            notice=InactivityLetter.objects.get(), actor=refunds_staff, at=day(152)
        )
    assert InactivityNotice.objects.get().sent_at is None


def test_an_email_that_fails_does_not_count_until_it_goes(nm_account, settings):
    settings.EMAIL_BACKEND = "tests.refunds.test_inactivity.FailingBackend"
    notice = inactivity_notices_send(now=day(150))[0]
    with pytest.raises(ConnectionError):
        inactivity_notice_email(notice_id=notice.pk, at=day(150))
    notice.refresh_from_db()
    assert notice.sent_at is None
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    inactivity_notice_email(notice_id=notice.pk, at=day(155))
    assert inactivity_schedule(account=nm_account, today=day(155).date()).closes_on == (
        day(185).date()
    )


class FailingBackend:
    def __init__(self, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionError("SMTP down")


def test_the_email_task_sends_the_notice_with_the_keep_open_link(
    nm_account, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        inactivity_notices_send(now=day(150))
    message = mail.outbox[0]
    assert "http://127.0.0.1:8000/account/keep-open/" in message.body
    assert "$26.00 today, would then be refunded to your" in message.body
    assert InactivityNotice.objects.get().sent_at is not None


def test_only_new_mexico_accounts_are_closed():
    texas = AdvanceConnectFactory(account__last_activity_at=START).account
    for n in (150, 173, 230, 400):
        assert run_daily(day(n)) == []
    texas.refresh_from_db()
    assert texas.status == CustomerAccount.Status.OPEN
    assert not InactivityNotice.objects.exists()


def test_running_the_sweep_twice_closes_and_notifies_once(nm_account):
    account = nm_account_inactive_since(START - dt.timedelta(days=400))
    InactivityNotice.objects.create(
        account=account,
        days_before=30,
        inactive_since=account.last_activity_at,
        closes_on=START.date(),
        created_at=START - dt.timedelta(days=40),
        sent_at=START - dt.timedelta(days=40),
    )
    call_command("close_inactive_accounts", stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("close_inactive_accounts", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert list(Closure.objects.values_list("account", flat=True)) == [account.pk]
    assert Refund.objects.count() == 1
    # The account never notified gets its first notice, once.
    assert InactivityNotice.objects.filter(account=nm_account).count() == 1


# --- rule N3 (decision): never closed without a notice sent 7 or more days before ---

EVENTS = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=420),  # day of the event
        st.sampled_from(["sweep", "sweep", "sweep", "skip_week", "activity", "keep_open"]),
    ),
    max_size=40,
)


@hypothesis_settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(events=EVENTS, has_email=st.booleans(), letters_mailed_after=st.integers(0, 20))
def test_no_account_is_ever_closed_without_a_notice_sent_7_days_before(
    events, has_email, letters_mailed_after, refunds_staff
):
    with transaction.atomic():
        account = nm_account_inactive_since(
            START, email=None if has_email else ""
        )  # one account per example, rolled back after
        plan = dict(events)
        skipped_until = -1
        for n in range(0, 430):
            action = plan.get(n, "sweep")
            if action == "skip_week":
                skipped_until = n + 7
            elif action == "activity":
                account_record_activity(account=account, kind=Activity.CALL_CHARGE, at=day(n, 0))
            elif action == "keep_open" and closed_on(account) is None:
                account_keep_open(account=account, actor=account.holder, at=day(n, 0))
            if n <= skipped_until:
                continue
            for letter in InactivityLetter.objects.filter(sent_at__isnull=True):
                if day(n).date() >= business_date(letter.created_at) + dt.timedelta(
                    days=letters_mailed_after
                ):
                    # a letter whose period ended is refused, and that is fine here
                    with contextlib.suppress(LetterRefused):
                        inactivity_letter_mark_mailed(notice=letter, actor=refunds_staff, at=day(n))
            run_daily(day(n))
            if closed_on(account):
                break

        account.refresh_from_db()
        closing_day = closed_on(account)
        if closing_day is not None:
            period = InactivityNotice.objects.filter(
                account=account, inactive_since=account.last_activity_at, sent_at__isnull=False
            )
            first = min(business_date(n.sent_at) for n in period)
            assert first <= closing_day - dt.timedelta(days=7)
            assert first <= closing_day - dt.timedelta(days=30)  # and, by design, 30
            starts_on = business_date(account.last_activity_at)
            assert closing_day >= starts_on + dt.timedelta(days=180)
        transaction.set_rollback(True)
