"""Rule B7: delete means delete. A closed account's personal data is erased once the money
no longer needs it, in two daily, idempotent stages, each leaving an erasure record:

1. identity, `ERASURE_IDENTITY_AFTER_DAYS` (90) after the money is final: the sign-in
   identity (email, password, MFA, sessions, email addresses), phone numbers, numbers
   called, support notes, and the holder's identity data key (what it sealed in the
   audit trail can no longer be read);
2. records, `RECORDS_RETENTION_YEARS` (7) after the money is final: names and addresses
   on closures, refunds, checks, claims and statements become the pseudonym, free text
   about the holder goes, and the records data key is destroyed.

What each stage erases is `portal.personal_data.ERASURE_RULES`; amounts, dates,
references, check numbers and states stay. A legal hold pauses both.
"""

import datetime as dt
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from accounts.models import CustomerAccount, DirectBillPayment, DirectBillStatement, User
from portal.actors import SYSTEM
from portal.audit import AuditAction, audit_record
from portal.business_calendar import add_calendar_days, business_date
from portal.datakeys import data_keys_shred
from portal.db import for_each_locked
from portal.errors import Refused
from portal.models import AuditEvent, DataKey
from portal.personal_data import (
    BLANK,
    ERASED,
    ERASED_TEXT,
    ERASURE_RULES,
    IDENTITY,
    PSEUDONYM,
    PSEUDONYM_EMAIL,
    RECORDS,
    UNUSABLE_PASSWORD,
)

from ..models import (
    AddressChangeRequest,
    Closure,
    ErasureRecord,
    HeldFunds,
    LegalHold,
    PositivePayFile,
    Refund,
)
from ..states import STATEMENT_OPEN

RULE = "B7"
S = Refund.Status
# A refund in one of these has done with the money: it reached the holder or a state, or
# another refund (or held funds) took it over.
REFUND_DONE = {S.SETTLED, S.CASHED, S.ESCHEATED, S.REISSUED, S.VOID}


class LegalHoldRefused(Refused):
    """The hold cannot be placed or lifted as asked; nothing changed."""


def pseudonym(account: CustomerAccount) -> str:
    """What stands in for the holder's name and address once erased: the account number
    auditors already hold, so records still add up per account."""
    return f"Former holder {account.number}"


def _pseudonym_email(account: CustomerAccount) -> str:
    return f"erased-{account.number}@erased.invalid"


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _refund_open(refund: Refund) -> bool:
    if refund.status in REFUND_DONE:
        return False
    superseded = Refund.objects.filter(replaces=refund).exists()
    return not (superseded or HeldFunds.objects.filter(refund=refund).exists())


def money_final_at(closure: Closure) -> dt.datetime | None:
    """When the closure's money was final (rule B7), None while it is not: every refund
    settled, cashed or remitted, every statement paid or written off, no held funds or
    claim open. It is the latest money event, so a returned check or a claim (B2/B3)
    after an earlier final moment moves it: the clock restarts."""
    account = closure.account
    statements = DirectBillStatement.objects.filter(direct_bill__account=account)
    if (
        closure.direct_bill_outcome == Closure.DirectBillOutcome.HELD
        or statements.filter(status__in=STATEMENT_OPEN).exists()
        or closure.held_funds.filter(status=HeldFunds.Status.HELD).exists()
        or closure.address_changes.filter(
            status=AddressChangeRequest.Status.AWAITING_CONFIRMATION
        ).exists()
        or any(_refund_open(refund) for refund in closure.refunds.all())
    ):
        return None
    moments = [
        closure.closed_at,
        closure.refunds.aggregate(at=Max("status_changed_at"))["at"],
        closure.held_funds.aggregate(at=Max("status_changed_at"))["at"],
        closure.address_changes.aggregate(at=Max("created_at"))["at"],
        closure.address_changes.aggregate(at=Max("decided_at"))["at"],
        statements.aggregate(at=Max("created_at"))["at"],
        DirectBillPayment.objects.filter(statement__in=statements).aggregate(at=Max("paid_at"))[
            "at"
        ],
        # A write-off has no column of its own: its audit event says when.
        AuditEvent.objects.filter(
            object_type=DirectBillStatement._meta.label_lower,
            object_id__in=[str(pk) for pk in statements.values_list("pk", flat=True)],
        ).aggregate(at=Max("occurred_at"))["at"],
    ]
    return max(moment for moment in moments if moment is not None)


def _expected_final_on(closure: Closure) -> dt.date:
    """While the money is not final: the day it is expected to be (the refund's due date,
    the Direct Bill hold's end, the final statement's due date), for the holder's notice."""
    days = [business_date(closure.closed_at), closure.direct_bill_hold_until]
    days += list(closure.refunds.values_list("due_date", flat=True))
    if closure.final_statement is not None:
        days.append(closure.final_statement.due_date)
    return max(day for day in days if day is not None)


@dataclass(frozen=True)
class ErasureSchedule:
    """The erasure days of a closed account. `final` False: the money is not final yet and
    the days are the earliest expected; they move when it is."""

    final: bool
    money_final_on: dt.date
    identity_on: dt.date
    records_on: dt.date
    hold: LegalHold | None
    identity_erased_at: dt.datetime | None
    records_erased_at: dt.datetime | None

    def due(self, stage: str, today: dt.date) -> bool:
        day = self.identity_on if stage == IDENTITY else self.records_on
        return self.final and self.hold is None and today >= day


def active_legal_hold(account: CustomerAccount, today: dt.date) -> LegalHold | None:
    holds = account.legal_holds.filter(lifted_at__isnull=True)
    return next((hold for hold in holds if hold.is_active(today)), None)


def erasure_schedule(*, closure: Closure, now: dt.datetime) -> ErasureSchedule:
    """When each stage erases this closure's account (rule B7)."""
    final_at = money_final_at(closure)
    final_on = business_date(final_at) if final_at else _expected_final_on(closure)
    erased = dict(closure.account.erasure_records.values_list("stage", "erased_at"))
    return ErasureSchedule(
        final=final_at is not None,
        money_final_on=final_on,
        identity_on=add_calendar_days(final_on, settings.ERASURE_IDENTITY_AFTER_DAYS),
        records_on=_add_years(final_on, settings.RECORDS_RETENTION_YEARS),
        hold=active_legal_hold(closure.account, business_date(now)),
        identity_erased_at=erased.get(IDENTITY),
        records_erased_at=erased.get(RECORDS),
    )


def _value(how: str, account: CustomerAccount) -> str:
    return {
        PSEUDONYM: pseudonym(account),
        PSEUDONYM_EMAIL: _pseudonym_email(account),
        BLANK: "",
        ERASED_TEXT: ERASED,
        UNUSABLE_PASSWORD: make_password(None),
    }[how]


def _erase_by_rules(account: CustomerAccount, stage: str) -> list[str]:
    """Apply every rule of `stage` to the account's rows; the categories erased."""
    categories = []
    for label, rule in ERASURE_RULES.items():
        if rule.holder_path is None:
            continue
        model = apps.get_model(label)
        lookup = f"{rule.holder_path}__pk" if rule.holder_path else "pk"
        rows = model._base_manager.filter(**{lookup: account.pk})
        if rule.delete_rows_at == stage:
            rows.delete()
            categories.append(f"{label} (rows)")
        for name, (field_stage, how) in rule.fields.items():
            if field_stage != stage:
                continue
            targets = rows.exclude(**{name: ""}) if how == ERASED_TEXT else rows
            targets.update(**{name: _value(how, account)})
            categories.append(f"{label}.{name}")
    return categories


def _sessions_delete(user: User) -> None:
    """Sessions name their user only inside the signed data: decode to find them."""
    for session in Session.objects.iterator():
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            session.delete()


def _log_entries_erase(account: CustomerAccount) -> None:
    objects = Q(content_type=ContentType.objects.get_for_model(User), object_id=account.holder_id)
    objects |= Q(
        content_type=ContentType.objects.get_for_model(CustomerAccount), object_id=account.pk
    )
    LogEntry.objects.filter(objects).update(object_repr=ERASED)


def _erase(account: CustomerAccount, stage: str, now: dt.datetime) -> ErasureRecord | None:
    """One stage on one locked account, when due; None when not due or done already."""
    closure = Closure.objects.get(account=account)
    schedule = erasure_schedule(closure=closure, now=now)
    already = schedule.identity_erased_at if stage == IDENTITY else schedule.records_erased_at
    if already or not schedule.due(stage, business_date(now)):
        return None
    holder = account.holder
    categories = _erase_by_rules(account, stage)
    if stage == IDENTITY:
        _sessions_delete(holder)
        _log_entries_erase(account)
        categories += ["sessions", "admin.logentry.object_repr"]
        purposes = [DataKey.Purpose.IDENTITY]
    else:
        PositivePayFile.objects.filter(items__refund__closure__account=account).update(content="")
        categories.append("refunds.positivepayfile.content")
        # An event written after the identity stage may have made a new identity key.
        purposes = [DataKey.Purpose.IDENTITY, DataKey.Purpose.RECORDS]
    for purpose in purposes:
        data_keys_shred(holder=holder, purpose=purpose)
    categories += [f"audit trail: {purpose} data key" for purpose in purposes]
    final_at = money_final_at(closure)
    if final_at is None:  # `schedule.due` holds only once the money is final
        raise AssertionError(f"account {account.pk}: money not final, nothing is due")
    record = ErasureRecord.objects.create(
        account=account,
        stage=stage,
        categories=categories,
        money_final_at=final_at,
        erased_at=now,
        rule=RULE,
    )
    audit_record(
        actor=SYSTEM,
        action=f"erasure.{stage}",
        target=account,
        after={"categories": categories, "money_final_at": final_at, "rule": RULE},
        reason=f"Rule {RULE}: the money was final on {business_date(final_at)}",
        at=now,
        subject=None,  # an erasure record holds no personal data
    )
    return record


def _sweep(
    stage: str, candidates: QuerySet[CustomerAccount], now: dt.datetime
) -> list[ErasureRecord]:
    today = business_date(now)
    due = [
        closure.account_id
        for closure in Closure.objects.filter(account__in=candidates).select_related("account")
        if erasure_schedule(closure=closure, now=now).due(stage, today)
    ]
    # Each account locked in its own transaction; another worker's are skipped, and the
    # stage is checked again under the lock, so two runs at once erase each account once.
    rows = candidates.filter(pk__in=due)
    return [record for record in for_each_locked(rows, lambda a: _erase(a, stage, now)) if record]


def identities_erase(*, now: dt.datetime | None = None) -> list[ErasureRecord]:
    """Daily, stage 1 of rule B7: sign-in identities 90 days after the money is final."""
    now = now or timezone.now()
    candidates = CustomerAccount.objects.filter(
        status=CustomerAccount.Status.CLOSED, closure__isnull=False
    ).exclude(erasure_records__stage=IDENTITY)
    return _sweep(IDENTITY, candidates, now)


def records_erase(*, now: dt.datetime | None = None) -> list[ErasureRecord]:
    """Daily, stage 2 of rule B7: names and addresses at the end of the retention period,
    for accounts whose identity stage has run."""
    now = now or timezone.now()
    candidates = CustomerAccount.objects.filter(erasure_records__stage=IDENTITY).exclude(
        erasure_records__stage=RECORDS
    )
    return _sweep(RECORDS, candidates, now)


def legal_hold_place(
    *,
    account: CustomerAccount,
    actor: User,
    reason: str,
    until: dt.date | None,
    at: dt.datetime | None = None,
) -> LegalHold:
    """Rule B7: Support pauses erasure of the account; audited."""
    reason = (reason or "").strip()
    if not reason:
        raise LegalHoldRefused("Say why the account is held.")
    at = at or timezone.now()
    if until is not None and until < business_date(at):
        raise LegalHoldRefused("The hold would end before today.")
    with transaction.atomic():
        account = CustomerAccount.objects.select_for_update().get(pk=account.pk)
        if account.erasure_records.filter(stage=RECORDS).exists():
            raise LegalHoldRefused(f"Account {account.number} is erased already.")
        hold = LegalHold.objects.create(
            account=account, reason=reason, until=until, placed_at=at, placed_by=actor
        )
        audit_record(
            actor=actor,
            action=AuditAction.LEGAL_HOLD_PLACED,
            target=hold,
            after={"account": account.number, "until": until},
            reason=reason,
            at=at,
        )
    return hold


def legal_hold_lift(
    *, hold: LegalHold, actor: User, reason: str, at: dt.datetime | None = None
) -> LegalHold:
    """End a hold; the account's erasure days apply again. Lifting twice does nothing."""
    reason = (reason or "").strip()
    if not reason:
        raise LegalHoldRefused("Say why the hold is lifted.")
    at = at or timezone.now()
    with transaction.atomic():
        hold = LegalHold.objects.select_for_update().get(pk=hold.pk)
        if hold.lifted_at is not None:
            return hold
        hold.lifted_at, hold.lifted_by, hold.lift_reason = at, actor, reason
        hold.save(update_fields=["lifted_at", "lifted_by", "lift_reason"])
        audit_record(
            actor=actor,
            action=AuditAction.LEGAL_HOLD_LIFTED,
            target=hold,
            before={"lifted_at": None},
            after={"lifted_at": at},
            reason=reason,
            at=at,
        )
    return hold
