"""Every write to an account and its services. Views, admin, jobs and tests call these."""

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Sequence

from django.db import connection, models, transaction
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from phonenumber_field.phonenumber import PhoneNumber as PhoneNumberValue

from portal.actors import Actor
from portal.audit import AuditAction, audit_record
from portal.db import bulk_insert, int_array, locked
from portal.errors import Refused

from .language import offered_language
from .models import (
    AdvanceConnect,
    CustomerAccount,
    LedgerEntry,
    MailingAddress,
    PhoneNumber,
    PurchaseMethod,
    User,
)


class AccountClosed(Refused):
    """The account is closed: its balance can no longer pay for anything (SPEC E1)."""


class LastPhoneNumber(Refused):
    """An account keeps at least one phone number (SPEC §0)."""


class Activity(models.TextChoices):
    """What counts as activity (SPEC N2). Nothing else restarts the 180 days."""

    DEPOSIT = "deposit", _("deposit")
    CALL_CHARGE = "call_charge", _("call charge")
    SIGN_IN = "sign_in", _("sign-in")
    REFUND_REQUEST = "refund_request", _("refund request")
    SUPPORT_CONTACT = "support_contact", _("holder contacted support")
    ADDRESS_CHANGE = "address_change", _("address change")
    # rule N3: the holder pressed "Keep my account open": an expression of interest in
    # the funds, which 47 CFR 64.6130(c) counts as activity.
    KEEP_OPEN = "keep_open", _("asked to keep the account open")

    @classmethod
    def words(cls, kind: str) -> str:
        """`sign_in` → `sign-in`; a kind not listed here is shown as it is stored."""
        return str(cls(kind).label) if kind in cls.values else kind


def account_record_activity(*, account: CustomerAccount, kind: str, at: dt.datetime) -> None:
    """Rule N2: stamp the account's last activity, never moving it backwards."""
    CustomerAccount.objects.filter(pk=account.pk).filter(
        Q(last_activity_at__lt=at) | Q(last_activity_at__isnull=True)
    ).update(last_activity_at=at, last_activity_kind=kind)
    if account.last_activity_at is None or account.last_activity_at < at:
        account.last_activity_at = at
        account.last_activity_kind = kind


def account_keep_open(
    *, account: CustomerAccount, actor: Actor, at: dt.datetime
) -> CustomerAccount:
    """Rule N3: "Keep my account open" is activity; it restarts the 180 days and so ends
    the inactivity period and its pending notices. Refused once the account is closed."""
    with transaction.atomic():
        account = _lock_open_account(account.pk)
        before = {"last_activity_at": account.last_activity_at}
        account_record_activity(account=account, kind=Activity.KEEP_OPEN, at=at)
        audit_record(
            actor=actor,
            action=AuditAction.ACCOUNT_KEPT_OPEN,
            target=account,
            before=before,
            after={"last_activity_at": account.last_activity_at},
            reason="The holder asked to keep the account open",
            at=at,
        )
    return account


def _lock_open_account(account_id: int) -> CustomerAccount:
    account = locked(CustomerAccount, pk=account_id)
    if not account.is_open:
        raise AccountClosed(f"Account {account.number} is closed.")
    return account


def _ledger_effect(entry: LedgerEntry) -> tuple[int, int, int]:
    """What one new row does to the kept (balance, unsettled cents, unsettled count)."""
    if entry.kind == LedgerEntry.Kind.CALL_CHARGE and entry.settled_at is None:
        return 0, entry.amount_cents, 1
    return entry.signed_cents, 0, 0


def ledger_entries_post(*, entries: Sequence[LedgerEntry]) -> list[LedgerEntry]:
    """Write ledger rows and move each account's kept balance by them, in one transaction.

    Every ledger row is written here. The balances move inside UPDATEs, which take the
    row locks, so two writers at once never lose each other's sum.
    """
    moves: defaultdict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for entry in entries:
        move = moves[entry.advance_connect_id]
        for i, delta in enumerate(_ledger_effect(entry)):
            move[i] += delta
    with transaction.atomic():
        created = bulk_insert(entries)
        _kept_balances_move(moves)
    return created


# SQLite: moves per UPDATE (its limit on parameters).
MOVES_PER_UPDATE = 1000


def _kept_balances_move(moves: dict[int, list[int]]) -> None:
    """Add to each AdvanceConnect's kept (balance, unsettled cents, unsettled count)
    its deltas. One account: one UPDATE by F() expressions. Several (a sweep's batch):
    their rows locked in id order first (two writers never deadlock), then one
    UPDATE ... FROM the moves (on PostgreSQL as arrays, each one parameter); the `id IN`
    lets the planner reach the rows by the primary key at any table size."""
    if len(moves) == 1:
        [(pk, (balance, unsettled, count))] = moves.items()
        AdvanceConnect.objects.filter(pk=pk).update(
            balance_cents=F("balance_cents") + balance,
            unsettled_cents=F("unsettled_cents") + unsettled,
            unsettled_count=F("unsettled_count") + count,
        )
        return
    ids = sorted(moves)
    list(AdvanceConnect.objects.select_for_update().filter(pk__in=ids).order_by("pk").values("pk"))
    table = connection.ops.quote_name(AdvanceConnect._meta.db_table)
    if connection.vendor == "postgresql":
        columns = [ids, *([moves[pk][i] for pk in ids] for i in range(3))]
        sql = (
            f"UPDATE {table} SET balance_cents = {table}.balance_cents + moves.balance, "  # noqa: S608 - a model's table
            f"unsettled_cents = {table}.unsettled_cents + moves.unsettled, "
            f"unsettled_count = {table}.unsettled_count + moves.number "
            "FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[]) "
            f"AS moves (id, balance, unsettled, number) "
            f"WHERE {table}.id = moves.id AND {table}.id = ANY(%s::bigint[])"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*map(int_array, columns), int_array(ids)])
        return
    row = "(CAST(%s AS bigint), CAST(%s AS bigint), CAST(%s AS bigint), CAST(%s AS bigint))"
    for start in range(0, len(ids), MOVES_PER_UPDATE):
        chunk = ids[start : start + MOVES_PER_UPDATE]
        # Only the table's quoted name and placeholders are formatted in: values are parameters.
        sql = (
            "WITH moves (id, balance, unsettled, number) AS "  # noqa: S608
            f"(VALUES {', '.join([row] * len(chunk))}) "
            f"UPDATE {table} SET balance_cents = {table}.balance_cents + moves.balance, "
            f"unsettled_cents = {table}.unsettled_cents + moves.unsettled, "
            f"unsettled_count = {table}.unsettled_count + moves.number "
            f"FROM moves WHERE {table}.id = moves.id AND {table}.id IN "
            f"({', '.join(['%s'] * len(chunk))})"
        )
        params = [value for pk in chunk for value in (pk, *moves[pk])]
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, *chunk])


def ledger_charges_settle(*, advance_connect: AdvanceConnect, at: dt.datetime) -> int:
    """Rule E3: deduct every unsettled call charge; returns how many were settled."""
    return ledger_charges_settle_many(advance_connect_ids=[advance_connect.pk], at=at)


def ledger_charges_settle_many(*, advance_connect_ids: Collection[int], at: dt.datetime) -> int:
    """Rule E3 for many AdvanceConnect accounts in two statements; returns how many
    charges were settled.

    The AdvanceConnect rows are updated (and so locked) first: a charge posted meanwhile
    either commits before, and is settled here, or after, and stays unsettled in both.
    """
    with transaction.atomic():
        AdvanceConnect.objects.filter(pk__in=advance_connect_ids).update(
            balance_cents=F("balance_cents") - F("unsettled_cents"),
            unsettled_cents=0,
            unsettled_count=0,
        )
        return LedgerEntry.objects.filter(
            advance_connect_id__in=advance_connect_ids,
            kind=LedgerEntry.Kind.CALL_CHARGE,
            settled_at__isnull=True,
        ).update(settled_at=at)


def deposit_record(
    *,
    advance_connect: AdvanceConnect,
    amount_cents: int,
    method: str,
    at: dt.datetime,
    card_brand: str = "",
    card_last4: str = "",
    processor_token: str = "",
) -> LedgerEntry:
    """Add money to an AdvanceConnect balance; a deposit is activity (N2)."""
    if method not in PurchaseMethod.values:
        raise ValueError(f"Unknown purchase method {method!r}.")
    with transaction.atomic():
        account = _lock_open_account(advance_connect.account_id)
        [entry] = ledger_entries_post(
            entries=[
                LedgerEntry(
                    advance_connect=advance_connect,
                    kind=LedgerEntry.Kind.DEPOSIT,
                    amount_cents=amount_cents,
                    occurred_at=at,
                    method=method,
                    card_brand=card_brand,
                    card_last4=card_last4,
                    processor_token=processor_token,
                )
            ]
        )
        account_record_activity(account=account, kind=Activity.DEPOSIT, at=at)
    return entry


def call_charge_post(
    *, advance_connect: AdvanceConnect, number_called: str, amount_cents: int, at: dt.datetime
) -> LedgerEntry:
    """Post an unsettled call charge. Rule E1: refused once the account is closed.

    The account row is locked, so a charge posted while the account is being closed
    waits for the closure: it is either deducted by it or refused after it (E3).
    """
    with transaction.atomic():
        account = _lock_open_account(advance_connect.account_id)
        [entry] = ledger_entries_post(
            entries=[
                LedgerEntry(
                    advance_connect=advance_connect,
                    kind=LedgerEntry.Kind.CALL_CHARGE,
                    amount_cents=amount_cents,
                    occurred_at=at,
                    number_called=number_called,
                )
            ]
        )
        account_record_activity(account=account, kind=Activity.CALL_CHARGE, at=at)
    return entry


def address_change(
    *,
    account: CustomerAccount,
    actor: Actor,
    at: dt.datetime,
    source: str = MailingAddress.Source.HOLDER,
    confirmed: bool = False,
    **fields: str,
) -> MailingAddress:
    """Put a new address on record; the old one stays as history (`replaced_at`)."""
    with transaction.atomic():
        account = locked(CustomerAccount, pk=account.pk)
        current = account.addresses.filter(replaced_at__isnull=True).first()
        before = current.as_dict() if current else {}
        if current:
            current.replaced_at = at
            current.save(update_fields=["replaced_at"])
        address = MailingAddress.objects.create(
            account=account,
            source=source,
            created_at=at,
            confirmed_at=at if confirmed else None,
            **fields,
        )
        account_record_activity(account=account, kind=Activity.ADDRESS_CHANGE, at=at)
        audit_record(
            actor=actor,
            action=AuditAction.ADDRESS_CHANGED,
            target=account,
            before=before,
            after=address.as_dict(),
            at=at,
        )
    return address


def address_confirm(*, address: MailingAddress, at: dt.datetime) -> MailingAddress:
    """The holder says the address on record is right (SPEC D2)."""
    MailingAddress.objects.filter(pk=address.pk).update(confirmed_at=at)
    address.confirmed_at = at
    return address


def phone_number_add(
    *,
    account: CustomerAccount,
    number: PhoneNumberValue | str,
    label: str = "",
    actor: Actor,
    at: dt.datetime,
) -> PhoneNumber:
    """Add a number the account pays calls to (a valid US number, as `PhoneNumberForm`
    gives it). Not activity: N2 does not count it. The audit row has the stored E.164."""
    with transaction.atomic():
        phone = PhoneNumber.objects.create(account=account, number=number, label=label)
        audit_record(
            actor=actor,
            action=AuditAction.PHONE_ADDED,
            target=account,
            after={"number": phone.stored_number, "label": label},
            at=at,
        )
    return phone


def phone_number_remove(*, phone_number: PhoneNumber, actor: Actor, at: dt.datetime) -> None:
    """Remove a number from the account; the last one stays (`LastPhoneNumber`)."""
    with transaction.atomic():
        account = locked(CustomerAccount, pk=phone_number.account_id)
        if not account.phone_numbers.exclude(pk=phone_number.pk).exists():
            raise LastPhoneNumber(_("Your account needs at least one phone number."))
        phone_number.delete()
        audit_record(
            actor=actor,
            action=AuditAction.PHONE_REMOVED,
            target=account,
            before={"number": phone_number.stored_number, "label": phone_number.label},
            at=at,
        )


def user_language_set(*, user: User, language: str) -> None:
    """Rule B5: store the language of a person's pages and emails (only one we offer)."""
    if offered_language(language) is None:
        raise ValueError(f"The portal does not offer the language {language!r}.")
    if user.language != language:
        User.objects.filter(pk=user.pk).update(language=language)
        user.language = language
