"""New Mexico: closing accounts after 180 days without activity (SPEC N1-N3, N6).

`inactivity_closes_on` is the one place the closure date is computed: the sweep, My
Account, the notices and the staff list of letters all go through it, so they never
disagree.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Min, OuterRef, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone

from accounts.models import CustomerAccount, MailingAddress
from accounts.selectors import current_address
from portal.actors import SYSTEM, Actor
from portal.audit import AuditAction, audit_record
from portal.business_calendar import business_date
from portal.db import BATCH_SIZE, for_each_batch_locked, locked
from portal.errors import Refused
from portal.links import absolute_url

from ..emails import send_holder_email
from ..models import Closure, InactivityNotice
from ..tasks import inactivity_notice_send_many
from .closure import RefundPlan, closure_plan, closures_confirm

DAY = dt.timedelta(days=1)


class LetterRefused(Refused):
    """The letter cannot be marked mailed; nothing was changed."""


def inactivity_closes_on(
    *, inactive_since: dt.datetime, first_notice_sent_at: dt.datetime | None, today: dt.date
) -> dt.date:
    """Rules N1-N3: the date an account inactive since `inactive_since` is closed.

    Day 180 of the period (which starts on 1 May 2023 at the earliest), or 30 days after
    the first notice of the period left, if that is later. While no notice has left,
    the date is the one a notice sent `today` would give.
    """
    starts_on = max(business_date(inactive_since), settings.INACTIVITY_RULE_STARTS_ON)
    first_sent_on = business_date(first_notice_sent_at) if first_notice_sent_at else today
    return max(
        starts_on + settings.INACTIVITY_DAYS * DAY,
        first_sent_on + settings.INACTIVITY_FIRST_NOTICE_DAYS * DAY,
    )


def first_notice_sent_at_subquery(
    account_ref: str = "pk", since_ref: str = "last_activity_at"
) -> Subquery:
    """When the first notice of the account's current period left (for annotations)."""
    return Subquery(
        InactivityNotice.objects.filter(
            account=OuterRef(account_ref),
            inactive_since=OuterRef(since_ref),
            sent_at__isnull=False,
        )
        .order_by("sent_at")
        .values("sent_at")[:1]
    )


@dataclass(frozen=True)
class InactivitySchedule:
    """Where an account stands in its inactivity period on `today` (rule N3)."""

    today: dt.date
    first_notice_sent_at: dt.datetime | None
    closes_on: dt.date

    @property
    def first_notice_due(self) -> bool:
        return self.first_notice_sent_at is None and (
            self.today >= self.closes_on - settings.INACTIVITY_FIRST_NOTICE_DAYS * DAY
        )

    @property
    def final_notice_due(self) -> bool:
        return self.first_notice_sent_at is not None and (
            self.today >= self.closes_on - settings.INACTIVITY_FINAL_NOTICE_DAYS * DAY
        )

    @property
    def closure_due(self) -> bool:
        # rule N3 (decision): never closed unless a notice left at least 7 days before.
        return (
            self.first_notice_sent_at is not None
            and business_date(self.first_notice_sent_at)
            <= self.today - settings.INACTIVITY_FINAL_NOTICE_DAYS * DAY
            and self.today >= self.closes_on
        )


def inactivity_covers(account: CustomerAccount) -> bool:
    """Rule N1: open New Mexico accounts."""
    return account.is_open and account.service_state in settings.INACTIVITY_STATES


def inactivity_schedule(*, account: CustomerAccount, today: dt.date) -> InactivitySchedule:
    """The account's closure date and which notice, if any, is due on `today`."""
    return inactivity_schedules([account], today=today)[account.pk]


def inactivity_schedules(
    accounts: Sequence[CustomerAccount], *, today: dt.date
) -> dict[int, InactivitySchedule]:
    """`inactivity_schedule` of each account, by id: when the first notice of each
    current period left is read for all of them in one query."""
    first_sent = {
        (account_id, inactive_since): first
        for account_id, inactive_since, first in InactivityNotice.objects.filter(
            account_id__in=[account.pk for account in accounts], sent_at__isnull=False
        )
        .order_by()
        .values("account_id", "inactive_since")
        .annotate(first=Min("sent_at"))
        .values_list("account_id", "inactive_since", "first")
    }
    schedules = {}
    for account in accounts:
        first_sent_at = first_sent.get((account.pk, account.last_activity_at))
        schedules[account.pk] = InactivitySchedule(
            today=today,
            first_notice_sent_at=first_sent_at,
            closes_on=inactivity_closes_on(
                inactive_since=account.last_activity_at,
                first_notice_sent_at=first_sent_at,
                today=today,
            ),
        )
    return schedules


@dataclass(frozen=True)
class InactivityOutlook:
    """What a New Mexico holder is shown: when the account would close without activity
    and what would then happen to the balance (rule N3, by the E4 rule)."""

    closes_on: dt.date
    refund: RefundPlan | None
    address: MailingAddress | None

    @property
    def refund_by_check(self) -> bool:
        return self.refund is not None and not self.refund.is_card


def inactivity_outlook(*, account: CustomerAccount, now: dt.datetime) -> InactivityOutlook | None:
    """The outlook for a covered account; None for every other account."""
    if not inactivity_covers(account):
        return None
    schedule = inactivity_schedule(account=account, today=business_date(now))
    return InactivityOutlook(
        closes_on=schedule.closes_on,
        refund=closure_plan(account=account, at=now).refund,
        address=current_address(account),
    )


def keep_open_url() -> str:
    return absolute_url(reverse("keep_account_open"))


def _candidates(now: dt.datetime, *, days: int) -> QuerySet[CustomerAccount]:
    """Covered accounts inactive long enough that something may be due; a day of slack
    for time zones, since `inactivity_schedule` decides."""
    return CustomerAccount.objects.select_related("holder").filter(
        status=CustomerAccount.Status.OPEN,
        service_state__in=settings.INACTIVITY_STATES,
        last_activity_at__lte=now - (days - 1) * DAY,
    )


def _notice_due(schedule: InactivitySchedule, queued: set[int]) -> int | None:
    """The lead time of the notice due, given those already queued in the period."""
    if schedule.first_notice_due and not queued:
        return settings.INACTIVITY_FIRST_NOTICE_DAYS
    if schedule.final_notice_due and settings.INACTIVITY_FINAL_NOTICE_DAYS not in queued:
        return settings.INACTIVITY_FINAL_NOTICE_DAYS
    return None


def _notices_if_due(accounts: list[CustomerAccount], now: dt.datetime) -> list[InactivityNotice]:
    """The notices due for a batch of locked accounts, made in one insert."""
    schedules = inactivity_schedules(accounts, today=business_date(now))
    queued: defaultdict[tuple, set[int]] = defaultdict(set)
    for account_id, inactive_since, days_before in InactivityNotice.objects.filter(
        account_id__in=[account.pk for account in accounts]
    ).values_list("account_id", "inactive_since", "days_before"):
        queued[account_id, inactive_since].add(days_before)
    Channel = InactivityNotice.Channel
    notices = []
    for account in accounts:
        schedule = schedules[account.pk]
        due = _notice_due(schedule, queued[account.pk, account.last_activity_at])
        if due is None:
            continue
        notices.append(
            InactivityNotice(
                account=account,
                days_before=due,
                inactive_since=account.last_activity_at,
                closes_on=schedule.closes_on,
                # rule N3: with no email on record, the notice is queued as a letter for staff.
                channel=Channel.EMAIL if account.holder.email else Channel.LETTER,
                created_at=now,
            )
        )
    InactivityNotice.objects.bulk_create(notices)
    emails = [notice.pk for notice in notices if notice.channel == Channel.EMAIL]
    if emails:
        transaction.on_commit(lambda: inactivity_notice_send_many.enqueue(notice_ids=emails))
    return notices


def inactivity_notices_send(
    *, now: dt.datetime | None = None, batch_size: int = BATCH_SIZE
) -> list[InactivityNotice]:
    """Rule N3: the first notice 30 days before the closure date (or at once, when the
    sweep first sees an account late), the last one 7 days before.

    One notice per account, lead time and period (a unique constraint, and each batch
    of accounts is locked while it is looked at), so a re-run or a second worker makes
    nothing new.
    """
    now = now or timezone.now()
    return for_each_batch_locked(
        _candidates(now, days=settings.INACTIVITY_DAYS - settings.INACTIVITY_FIRST_NOTICE_DAYS),
        lambda accounts: _notices_if_due(accounts, now),
        size=batch_size,
    )


def inactive_accounts_close(
    *, now: dt.datetime | None = None, batch_size: int = BATCH_SIZE
) -> list[Closure]:
    """Rule N3: close, through the same closure service as Delete Account, every
    covered account whose closure date has come, and no other.

    Safe to run twice or on two workers at once (N6): accounts are claimed in batches
    with SKIP LOCKED, their schedules read again inside the lock (activity since keeps
    an account open), and `closures_confirm` closes only accounts still open.
    """
    now = now or timezone.now()
    today = business_date(now)

    def close_due(accounts: list[CustomerAccount]) -> list[Closure]:
        schedules = inactivity_schedules(accounts, today=today)
        due = [account for account in accounts if schedules[account.pk].closure_due]
        if not due:
            return []
        return closures_confirm(due, actor=SYSTEM, at=now, reason=Closure.Reason.INACTIVITY)

    return for_each_batch_locked(
        _candidates(now, days=settings.INACTIVITY_DAYS), close_due, size=batch_size
    )


def _lock_notice(notice_id: int) -> InactivityNotice:
    return locked(InactivityNotice.objects.select_related("account__holder"), pk=notice_id)


def _is_current(notice: InactivityNotice) -> bool:
    """Rule N3: any activity ends the period and its notices."""
    account = notice.account
    return inactivity_covers(account) and notice.inactive_since == account.last_activity_at


def _mark_sent(notice: InactivityNotice, at: dt.datetime) -> None:
    """Stamp when the notice left and the closure date it gives (it may be the first)."""
    notice.sent_at = at
    notice.save(update_fields=["sent_at"])
    schedule = inactivity_schedule(account=notice.account, today=business_date(at))
    notice.closes_on = schedule.closes_on
    notice.save(update_fields=["closes_on"])


def inactivity_notice_context(notice: InactivityNotice, *, at: dt.datetime) -> dict:
    return {
        "notice": notice,
        "account": notice.account,
        "outlook": inactivity_outlook(account=notice.account, now=at),
        "keep_open_url": keep_open_url(),
    }


def inactivity_notice_email(*, notice_id: int, at: dt.datetime) -> InactivityNotice | None:
    """Email one notice, once; nothing when its period has ended since it was queued.
    A failed send leaves `sent_at` empty, so the notice does not count and
    `retry_pending_work` tries again."""
    with transaction.atomic():
        notice = _lock_notice(notice_id)
        if (
            notice.channel != InactivityNotice.Channel.EMAIL
            or notice.sent_at is not None
            or not _is_current(notice)
        ):
            return None
        _mark_sent(notice, at)
        send_holder_email(
            user=notice.account.holder,
            template="inactivity_notice",
            context=inactivity_notice_context(notice, at=at),
        )
    return notice


def inactivity_letter_mark_mailed(
    *, notice: InactivityNotice, actor: Actor, at: dt.datetime
) -> InactivityNotice:
    """Staff mailed the letter of a notice that could not be emailed (rule N3); from
    now on it counts as sent. Already marked: returned as it is."""
    with transaction.atomic():
        notice = _lock_notice(notice.pk)
        account = notice.account
        if notice.channel != InactivityNotice.Channel.LETTER:
            raise LetterRefused(f"The notice for account {account.number} goes by email.")
        if notice.sent_at is not None:
            return notice
        if not _is_current(notice):
            raise LetterRefused(
                f"Account {account.number} has had activity since this letter was queued "
                "(or is closed): the letter is no longer needed and was not marked mailed."
            )
        _mark_sent(notice, at)
        audit_record(
            actor=actor,
            action=AuditAction.INACTIVITY_LETTER_MAILED,
            target=notice,
            before={"sent_at": None},
            after={"sent_at": at, "closes_on": notice.closes_on},
            reason=f"Notice {notice.days_before} days before closure, mailed",
            at=at,
        )
    return notice
