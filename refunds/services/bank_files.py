"""Bank files (rule B8): the Positive Pay issue file sent to the bank, the BAI2 paid-items
file read back, and the exceptions a person decides.

Every write here runs in one transaction with its audit row; a refused file changes
nothing. Checks are cleared only through `refund_mark_cashed`, the service behind the
back office's "Mark cashed" button.
"""

import datetime as dt
import hashlib
import logging
from collections.abc import Iterable
from typing import TypeVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from portal.actors import Actor, actor_label, actor_user
from portal.audit import AuditAction, audit_event_intact, audit_record
from portal.business_calendar import business_zone
from portal.errors import Refused
from portal.models import AuditEvent
from portal.money import format_cents

from ..bank_files.bai2_file import Bai2Refused, PaidCheck, parse_paid_checks
from ..bank_files.layouts import LayoutError, render
from ..bank_files.positive_pay import POSITIVE_PAY_LAYOUTS
from ..models import BankFile, BankFileException, PositivePayFile, PositivePayItem, Refund
from .transitions import refund_mark_cashed

S = Refund.Status
ISSUE = PositivePayItem.Kind.ISSUE
VOID = PositivePayItem.Kind.VOID
Reason = BankFileException.Reason

# Checks the bank may pay: sent to it as issued.
OUTSTANDING = {S.ISSUED, S.MAILED, S.RETURNED}
# Checks that must never be paid any more: once sent as issued, they go as voids.
NO_LONGER_PAYABLE = {S.VOID, S.REISSUED, S.STALE, S.ESCHEATED}

M = TypeVar("M", bound=Model)

logger = logging.getLogger(__name__)


class BankFileRefused(Refused):
    """The file cannot be made or read as asked; nothing was changed."""


def _in_range(
    queryset: QuerySet[M], field: str, date_from: dt.date | None, date_to: dt.date | None
) -> QuerySet[M]:
    if date_from:
        queryset = queryset.filter(**{f"{field}__gte": date_from})
    if date_to:
        queryset = queryset.filter(**{f"{field}__lte": date_to})
    return queryset


def _zoned_range(date_from: dt.date | None, date_to: dt.date | None) -> dict[str, dt.datetime]:
    """The moments of the business days `date_from` to `date_to`, for a datetime field."""
    zone = business_zone()
    bounds = {}
    if date_from:
        bounds["status_changed_at__gte"] = dt.datetime.combine(date_from, dt.time.min, zone)
    if date_to:
        next_day = date_to + dt.timedelta(days=1)
        bounds["status_changed_at__lt"] = dt.datetime.combine(next_day, dt.time.min, zone)
    return bounds


def positive_pay_candidates(
    *, date_from: dt.date | None = None, date_to: dt.date | None = None, resend: bool = False
) -> tuple[QuerySet[Refund], QuerySet[Refund]]:
    """The checks the next issue file holds: (issues, voids), each by check number.

    Issues: checks outstanding (issued, mailed or returned) with their issue date in
    the range. Voids: checks sent before as issued that can no longer be paid (void,
    reissued, stale, escheated), with the change in the range. Without `resend`, a
    check already sent as an issue (or as a void) is left out (rule B8)."""
    checks = Refund.objects.filter(method=Refund.Method.CHECK, check_number__isnull=False)
    sent_as = PositivePayItem.objects.values("refund")
    issues = _in_range(checks.filter(status__in=OUTSTANDING), "issued_on", date_from, date_to)
    voids = checks.filter(
        status__in=NO_LONGER_PAYABLE,
        pk__in=sent_as.filter(kind=ISSUE),
        **_zoned_range(date_from, date_to),
    )
    if not resend:
        issues = issues.exclude(pk__in=sent_as.filter(kind=ISSUE))
        voids = voids.exclude(pk__in=sent_as.filter(kind=VOID))
    return issues.order_by("check_number"), voids.order_by("check_number")


def positive_pay_file_create(
    *,
    actor: User,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    resend: bool = False,
    at: dt.datetime | None = None,
) -> PositivePayFile:
    """Make the Positive Pay issue file of the checks issued and voided since the last
    file (or in a date range), in the bank's layout, and record it: who, when, the
    checks, the file and its SHA-256 (rule B8)."""
    at = at or timezone.now()
    layout = POSITIVE_PAY_LAYOUTS.get(settings.POSITIVE_PAY_LAYOUT)
    if layout is None:
        raise BankFileRefused(
            f"The Positive Pay layout {settings.POSITIVE_PAY_LAYOUT!r} does not exist; "
            f"the layouts are: {', '.join(sorted(POSITIVE_PAY_LAYOUTS))}."
        )
    if date_from and date_to and date_from > date_to:
        raise BankFileRefused("The start date is after the end date.")
    account = settings.POSITIVE_PAY_ACCOUNT_NUMBER
    try:
        with transaction.atomic():
            issues, voids = positive_pay_candidates(
                date_from=date_from, date_to=date_to, resend=resend
            )
            entries = [(ISSUE, check) for check in issues.select_for_update(of=("self",))]
            entries += [(VOID, check) for check in voids.select_for_update(of=("self",))]
            if not entries:
                raise BankFileRefused(
                    "There is nothing to send: no check was issued or voided since the "
                    "last file (or in these dates). Tick 'send again' to repeat checks "
                    "already sent."
                )
            rows = [
                {
                    "kind": kind,
                    "account_number": account,
                    "routing_number": settings.POSITIVE_PAY_ROUTING_NUMBER,
                    "check_number": check.check_number,
                    "amount_cents": check.amount_cents,
                    "issued_on": check.issued_on,
                    "payee_name": check.payee_name,
                }
                for kind, check in entries
            ]
            content = render(layout, rows)
            pay_file = PositivePayFile.objects.create(
                layout=layout.key,
                bank_account_number=account,
                bank_routing_number=settings.POSITIVE_PAY_ROUTING_NUMBER,
                date_from=date_from,
                date_to=date_to,
                resend=resend,
                filename=(
                    f"positive-pay_{account[-4:]}_{at.astimezone(business_zone()):%Y%m%d-%H%M%S}"
                    f".{layout.extension}"
                ),
                content=content,
                sha256=hashlib.sha256(content.encode("ascii")).hexdigest(),
                issue_count=sum(1 for kind, _check in entries if kind == ISSUE),
                void_count=sum(1 for kind, _check in entries if kind == VOID),
                total_cents=sum(check.amount_cents for kind, check in entries if kind == ISSUE),
                created_by=actor,
                created_at=at,
            )
            PositivePayItem.objects.bulk_create(
                _sent_item(pay_file, kind, check, resend) for kind, check in entries
            )
            audit_record(
                actor=actor,
                action=AuditAction.POSITIVE_PAY_FILE_CREATED,
                target=pay_file,
                after={
                    "layout": layout.key,
                    "sha256": pay_file.sha256,
                    "issued": [check.check_number for kind, check in entries if kind == ISSUE],
                    "voided": [check.check_number for kind, check in entries if kind == VOID],
                    "total_cents": pay_file.total_cents,
                    "from": date_from,
                    "to": date_to,
                    "resend": resend,
                },
                at=at,
            )
            return pay_file
    except LayoutError as exc:
        raise BankFileRefused(f"A check does not fit the bank's layout: {exc}") from exc
    except IntegrityError as exc:
        raise BankFileRefused(
            "Another issue file took some of these checks at the same moment. "
            "Nothing was made; make the file again."
        ) from exc


def _sent_item(
    pay_file: PositivePayFile, kind: str, check: Refund, resend: bool
) -> PositivePayItem:
    """The file's line for `check`, as sent. Candidates are issued checks: a number and
    an issue date are always there."""
    if check.check_number is None or check.issued_on is None:
        raise AssertionError(f"refund {check.pk} is not an issued check")
    return PositivePayItem(
        file=pay_file,
        refund=check,
        kind=kind,
        resent=resend,
        check_number=check.check_number,
        amount_cents=check.amount_cents,
        issued_on=check.issued_on,
        payee_name=check.payee_name,
    )


def _as_recorded(
    record: PositivePayFile | BankFile, *, created_by: AuditAction, content: str
) -> bytes:
    """rule B8, S5: the stored file's bytes, refused unless their SHA-256 is the one its
    creation audit event recorded under the HMAC key. Someone with the database login
    can rewrite the file and its `sha256` column together, but not that event, so a
    file changed before it reaches the bank (a payee, an amount) is never handed out."""
    data = content.encode("ascii")
    digest = hashlib.sha256(data).hexdigest()
    created = (
        AuditEvent.objects.filter(
            action=created_by, object_type=record._meta.label_lower, object_id=str(record.pk)
        )
        .order_by("id")
        .first()
    )
    if (
        created is None
        or not audit_event_intact(created)
        or created.after.get("sha256") != digest
        or record.sha256 != digest
    ):
        logger.error(
            "%s %s does not match the SHA-256 recorded when it was made: it was changed "
            "in the database. It was not downloaded.",
            record._meta.verbose_name,
            record.pk,
            extra={"tampered": record._meta.label_lower, "id": record.pk},
        )
        raise BankFileRefused(
            f"This {record._meta.verbose_name} is not the file that was recorded: it was "
            "changed in the database afterwards. Nothing was downloaded; tell security.",
            file=record.pk,
        )
    return data


def positive_pay_file_download(
    *, pay_file: PositivePayFile, actor: Actor, at: dt.datetime | None = None
) -> bytes:
    """The file's bytes, exactly as first made (same SHA-256); each download audited."""
    content = _as_recorded(
        pay_file, created_by=AuditAction.POSITIVE_PAY_FILE_CREATED, content=pay_file.content
    )
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=AuditAction.POSITIVE_PAY_FILE_DOWNLOADED,
            target=pay_file,
            after={"sha256": pay_file.sha256},
            at=at or timezone.now(),
        )
    return content


def _exception_for(paid: PaidCheck, refund: Refund | None, seen: set[str]) -> tuple[str, str]:
    """Why a paid check cannot be applied as it is, in plain words, or ("", "")."""
    number = paid.check_number.lstrip("0")
    if refund is None or not number:
        return Reason.UNKNOWN_CHECK, (
            f"The bank paid check {paid.check_number or '(no number)'}; "
            "no refund check has that number."
        )
    if number in seen or refund.status == S.CASHED:
        when = f" on {refund.cleared_on}" if refund.cleared_on else " earlier in this file"
        return Reason.PAID_TWICE, f"Check {refund.check_number} was already paid{when}."
    if refund.amount_cents != paid.amount_cents:
        return Reason.AMOUNT_DIFFERS, (
            f"Check {refund.check_number} is for {format_cents(refund.amount_cents)}; "
            f"the bank paid {format_cents(paid.amount_cents)}."
        )
    if refund.status in NO_LONGER_PAYABLE or refund.status == S.RETURNED:
        return Reason.VOID_OR_STALE, (
            f"Check {refund.check_number} is {refund.get_status_display().lower()}: "
            "it should not have been paid."
        )
    if refund.status != S.MAILED:
        return Reason.NOT_MAILED, (
            f"Check {refund.check_number} is {refund.get_status_display().lower()}, not "
            "marked mailed; check it went out, mark it mailed, then cashed."
        )
    return "", ""


def bank_file_import(
    *, content: bytes, filename: str, actor: Actor, at: dt.datetime | None = None
) -> tuple[BankFile, bool]:
    """Read the bank's BAI2 paid-items file and clear the checks it paid (rule B8).

    A check paid with exactly its number and amount, and mailed, is marked cashed on the
    file's as-of date through `refund_mark_cashed`. Anything else is not applied but
    listed as an exception with its line in the file, for a person to decide. A file
    that is not BAI2, is cut short or whose totals do not add up is refused whole.
    The same file again (same SHA-256) changes nothing: returns (file, False)."""
    at = at or timezone.now()
    digest = hashlib.sha256(content).hexdigest()
    existing = BankFile.objects.filter(sha256=digest).first()
    if existing is not None:
        return existing, False
    try:
        text = content.decode("ascii")
    except UnicodeDecodeError as exc:
        raise BankFileRefused(
            "This is not a BAI2 file: it holds characters a BAI2 file never has."
        ) from exc
    try:
        paid_items = parse_paid_checks(text, account_number=settings.POSITIVE_PAY_ACCOUNT_NUMBER)
    except Bai2Refused as exc:
        raise BankFileRefused(str(exc)) from exc
    try:
        with transaction.atomic():
            bank_file = BankFile.objects.create(
                filename=filename[:200],
                sha256=digest,
                content=text,
                as_of_date=paid_items.as_of_date,
                paid_count=len(paid_items.checks),
                paid_cents=sum(paid.amount_cents for paid in paid_items.checks),
                cleared_count=0,
                exception_count=0,
                imported_by=actor_user(actor),
                imported_by_label=actor_label(actor),
                imported_at=at,
            )
            cleared, exceptions = _apply_paid_checks(bank_file, paid_items.checks, actor, at)
            bank_file.cleared_count = len(cleared)
            bank_file.exception_count = len(exceptions)
            bank_file.save(update_fields=["cleared_count", "exception_count"])
            audit_record(
                actor=actor,
                action=AuditAction.BANK_FILE_IMPORTED,
                target=bank_file,
                after={
                    "sha256": digest,
                    "as_of": bank_file.as_of_date,
                    "paid": bank_file.paid_count,
                    "paid_cents": bank_file.paid_cents,
                    "cleared": cleared,
                    "exceptions": [
                        {"line": e.line, "check": e.check_number, "reason": e.reason}
                        for e in exceptions
                    ],
                },
                at=at,
            )
    except IntegrityError:  # the same file, imported at the same moment by someone else
        return BankFile.objects.get(sha256=digest), False
    return bank_file, True


def _apply_paid_checks(
    bank_file: BankFile, paid_checks: Iterable[PaidCheck], actor: Actor, at: dt.datetime
) -> tuple[list[str | None], list[BankFileException]]:
    cleared: list[str | None] = []
    exceptions: list[BankFileException] = []
    seen: set[str] = set()
    for paid in paid_checks:
        number = paid.check_number.lstrip("0")
        refund = (
            Refund.objects.select_for_update(of=("self",))
            .filter(
                Q(check_number=paid.check_number) | Q(check_number=number),
                method=Refund.Method.CHECK,
            )
            .first()
            if number
            else None
        )
        reason, detail = _exception_for(paid, refund, seen)
        seen.add(number)
        if reason:
            exceptions.append(
                BankFileException.objects.create(
                    bank_file=bank_file,
                    line=paid.line,
                    check_number=paid.check_number,
                    amount_cents=paid.amount_cents,
                    paid_on=paid.paid_on,
                    refund=refund,
                    reason=reason,
                    detail=detail,
                )
            )
            continue
        if refund is None:  # _exception_for gives a reason for a check without a refund
            raise AssertionError("a paid check without a refund has an exception")
        refund_mark_cashed(refund=refund, actor=actor, cleared_on=paid.paid_on, at=at)
        cleared.append(refund.check_number)
    return cleared, exceptions


def bank_file_download(
    *, bank_file: BankFile, actor: Actor, at: dt.datetime | None = None
) -> bytes:
    """The paid-items file as it was imported; each download audited."""
    content = _as_recorded(
        bank_file, created_by=AuditAction.BANK_FILE_IMPORTED, content=bank_file.content
    )
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=AuditAction.BANK_FILE_DOWNLOADED,
            target=bank_file,
            after={"sha256": bank_file.sha256},
            at=at or timezone.now(),
        )
    return content


def bank_file_exception_resolve(
    *, exception: BankFileException, actor: User, note: str, at: dt.datetime | None = None
) -> BankFileException:
    """A person's decision on an exception, with a note (rule B8). Resolving records the
    decision only: moving the check (void, mark cashed, ...) is done with its own
    buttons. The same decision twice is one decision."""
    note = (note or "").strip()
    if not note:
        raise BankFileRefused("Say what was decided: a note is required.")
    at = at or timezone.now()
    with transaction.atomic():
        locked = BankFileException.objects.select_for_update().get(pk=exception.pk)
        if locked.resolved_at is not None:
            if locked.resolution_note == note:
                return locked
            raise BankFileRefused(
                f"This exception was already resolved on {locked.resolved_at:%Y-%m-%d} by "
                f"{locked.resolved_by}. Nothing was changed."
            )
        locked.resolved_at = at
        locked.resolved_by = actor
        locked.resolution_note = note
        locked.save(update_fields=["resolved_at", "resolved_by", "resolution_note"])
        audit_record(
            actor=actor,
            action=AuditAction.BANK_FILE_EXCEPTION_RESOLVED,
            target=locked,
            before={"resolved": False},
            after={"resolved": True, "reason": locked.reason, "check": locked.check_number},
            reason=note,
            at=at,
        )
        return locked
