"""New Mexico: closing accounts after 180 days without activity (SPEC N1-N3, N6)."""

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import CustomerAccount
from portal.business_calendar import business_date
from portal.db import for_each_locked

from ..models import Closure, InactivityNotice
from ..tasks import inactivity_notice_send
from .closure import closure_confirm

INACTIVITY_DAYS = 180
NOTICE_DAYS_BEFORE = (30, 7)
# rule N1: New Mexico accounts, from 1 May 2023 on.
INACTIVITY_STATES = ("NM",)
INACTIVITY_RULE_STARTS = dt.datetime(2023, 5, 1, tzinfo=dt.timezone.utc)


def inactivity_closes_at(account: CustomerAccount) -> dt.datetime:
    """Rule N2: 180 days after the last activity, which any new activity restarts."""
    return account.last_activity_at + dt.timedelta(days=INACTIVITY_DAYS)


def _covered(now: dt.datetime):
    if now < INACTIVITY_RULE_STARTS:
        return CustomerAccount.objects.none()
    return CustomerAccount.objects.filter(
        status=CustomerAccount.Status.OPEN, service_state__in=INACTIVITY_STATES
    )


def inactive_accounts_close(*, now: dt.datetime | None = None) -> list[Closure]:
    """Rule N3: close, through the same closure service as Delete Account, every
    covered account whose 180 days have run out, and no other.

    Safe to run twice or on two workers at once (N6): each account is locked with
    SKIP LOCKED and re-checked inside the lock (activity since keeps it open), and
    `closure_confirm` is idempotent.
    """
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=INACTIVITY_DAYS)
    return for_each_locked(
        _covered(now).filter(last_activity_at__lte=cutoff),
        lambda account: closure_confirm(
            account=account, actor=None, at=now, reason=Closure.Reason.INACTIVITY
        ),
    )


def inactivity_notices_send(*, now: dt.datetime | None = None) -> list[InactivityNotice]:
    """Rule N3 (beyond): email the holder 30 and 7 days before the closure date.

    A notice row is created once per account, lead time and inactivity period (a unique
    constraint), then its email is sent after commit; a re-run creates nothing new.
    """
    now = now or timezone.now()
    notices = []
    for days_before in NOTICE_DAYS_BEFORE:
        # Inside this lead time but not yet inside the next, shorter one.
        shorter = min([d for d in (*NOTICE_DAYS_BEFORE, 0) if d < days_before], default=0)
        already_sent = InactivityNotice.objects.filter(
            account=OuterRef("pk"),
            days_before=days_before,
            inactive_since=OuterRef("last_activity_at"),
        )
        accounts = (
            _covered(now)
            .filter(
                last_activity_at__lte=now - dt.timedelta(days=INACTIVITY_DAYS - days_before),
                last_activity_at__gt=now - dt.timedelta(days=INACTIVITY_DAYS - shorter),
            )
            .exclude(Exists(already_sent))
        )
        for account in accounts.iterator(chunk_size=500):
            closes_at = inactivity_closes_at(account)
            try:
                with transaction.atomic():
                    notice = InactivityNotice.objects.create(
                        account=account,
                        days_before=days_before,
                        inactive_since=account.last_activity_at,
                        closes_on=business_date(closes_at),
                        created_at=now,
                    )
                    transaction.on_commit(
                        lambda notice_id=notice.pk: inactivity_notice_send.enqueue(
                            notice_id=notice_id
                        )
                    )
            except IntegrityError:
                continue  # another run made this notice first
            notices.append(notice)
    return notices
