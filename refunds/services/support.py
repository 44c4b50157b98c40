"""What customer support writes (SPEC §5): notes on an account, and that the holder
contacted support, which is activity (rule N2). Support never moves money."""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from accounts.models import CustomerAccount, SupportNote, User
from accounts.services import Activity, account_record_activity
from portal.actors import Actor
from portal.audit import AuditAction, audit_record
from portal.db import locked
from portal.errors import Refused

# A second click within this window is the same note or the same call, not a new one.
DOUBLE_SUBMIT_WINDOW = dt.timedelta(minutes=1)


class SupportRefused(Refused):
    """Nothing was written."""


def support_note_add(
    *, account: CustomerAccount, author: User, text: str, at: dt.datetime | None = None
) -> SupportNote:
    """Add a note to the account. Notes are never edited or deleted."""
    text = (text or "").strip()
    if not text:
        raise SupportRefused("A note needs some text.")
    at = at or timezone.now()
    with transaction.atomic():
        account = locked(CustomerAccount, pk=account.pk)
        same = SupportNote.objects.filter(
            account=account, author=author, text=text, created_at__gte=at - DOUBLE_SUBMIT_WINDOW
        ).first()
        if same is not None:
            return same
        note = SupportNote.objects.create(account=account, author=author, created_at=at, text=text)
        audit_record(
            actor=author,
            action=AuditAction.ACCOUNT_NOTE_ADDED,
            target=account,
            after={"note": note.pk, "text": text},
            at=at,
        )
    return note


def support_contact_record(
    *, account: CustomerAccount, actor: Actor, at: dt.datetime | None = None
) -> bool:
    """Rule N2: the holder contacting support about the account is activity and
    restarts the 180 days. Returns False when this call was recorded already."""
    at = at or timezone.now()
    with transaction.atomic():
        account = locked(CustomerAccount, pk=account.pk)
        if (
            account.last_activity_kind == Activity.SUPPORT_CONTACT
            and account.last_activity_at >= at - DOUBLE_SUBMIT_WINDOW
        ):
            return False
        before = {
            "last_activity_at": account.last_activity_at,
            "last_activity_kind": account.last_activity_kind,
        }
        account_record_activity(account=account, kind=Activity.SUPPORT_CONTACT, at=at)
        audit_record(
            actor=actor,
            action=AuditAction.ACCOUNT_SUPPORT_CONTACT,
            target=account,
            before=before,
            after={
                "last_activity_at": account.last_activity_at,
                "last_activity_kind": account.last_activity_kind,
            },
            reason="The holder contacted support",
            at=at,
        )
    return True
