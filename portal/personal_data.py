"""Where personal data lives, and what erasure does to it (rule B7), in one place.

`ERASURE_RULES` names, model by model, every field that holds a holder's personal data:
the stage that erases it (`IDENTITY`, 90 days after the money is final; `RECORDS`, at the
end of the records retention period) and how. `NOT_PERSONAL` names every other text-like
field with the reason it holds none. `tests/test_personal_data.py` walks every model's
fields and fails when a text-like field is in neither, so a new personal field cannot ship
without a rule. Models are named by label, so this module imports no app.
"""

from dataclasses import dataclass, field

IDENTITY = "identity"
RECORDS = "records"
STAGES = (IDENTITY, RECORDS)

# How a field is erased.
PSEUDONYM = "pseudonym"  # replaced by the account's pseudonym
PSEUDONYM_EMAIL = "pseudonym_email"  # replaced by an address at .invalid built on the pseudonym
UNUSABLE_PASSWORD = "unusable_password"  # noqa: S105 (a kind of erasure, not a password)
BLANK = "blank"  # emptied
ERASED_TEXT = "erased_text"  # free text replaced by ERASED, when there was any
ERASED = "[erased]"


@dataclass(frozen=True)
class ModelRule:
    """`holder_path`: the lookup from the model to the holder's CustomerAccount ("" for
    the account itself; None where the erasure service finds the rows itself).
    `fields`: field name -> (stage, how). `delete_rows_at`: the stage at which the
    holder's rows go entirely (sign-in records with nothing auditors need)."""

    holder_path: str | None
    fields: dict[str, tuple[str, str]] = field(default_factory=dict)
    delete_rows_at: str | None = None


ERASURE_RULES: dict[str, ModelRule] = {
    "accounts.user": ModelRule(
        "customer_account",
        {
            "email": (IDENTITY, PSEUDONYM_EMAIL),
            "password": (IDENTITY, UNUSABLE_PASSWORD),
            # Exports print the holder's name on closures, refunds and statements until the
            # records stage, like the check's payee.
            "first_name": (RECORDS, PSEUDONYM),
            "last_name": (RECORDS, BLANK),
        },
    ),
    "account.emailaddress": ModelRule("user__customer_account", delete_rows_at=IDENTITY),
    "mfa.authenticator": ModelRule("user__customer_account", delete_rows_at=IDENTITY),
    "accounts.phonenumber": ModelRule("account", delete_rows_at=IDENTITY),
    "accounts.supportnote": ModelRule("account", {"text": (IDENTITY, ERASED_TEXT)}),
    "accounts.ledgerentry": ModelRule(
        "advance_connect__account",
        {"number_called": (IDENTITY, BLANK), "memo": (RECORDS, ERASED_TEXT)},
    ),
    "accounts.directbillcharge": ModelRule(
        "direct_bill__account", {"number_called": (IDENTITY, BLANK)}
    ),
    "accounts.mailingaddress": ModelRule(
        "account",
        {
            "line1": (RECORDS, PSEUDONYM),
            "line2": (RECORDS, BLANK),
            "city": (RECORDS, BLANK),
            "zip_code": (RECORDS, BLANK),
        },
    ),
    # The incarcerated person's name is theirs, and names the holder's family.
    "accounts.securusdebit": ModelRule("account", {"incarcerated_name": (RECORDS, ERASED_TEXT)}),
    "accounts.videosession": ModelRule("account", {"incarcerated_name": (RECORDS, ERASED_TEXT)}),
    "refunds.refund": ModelRule(
        "closure__account",
        {
            "payee_name": (RECORDS, PSEUDONYM),
            "address_line1": (RECORDS, BLANK),
            "address_line2": (RECORDS, BLANK),
            "address_city": (RECORDS, BLANK),
            "address_zip": (RECORDS, BLANK),
            "status_reason": (RECORDS, ERASED_TEXT),
            "last_error": (RECORDS, ERASED_TEXT),
        },
    ),
    "refunds.addresschangerequest": ModelRule(
        "closure__account",
        {
            "line1": (RECORDS, PSEUDONYM),
            "line2": (RECORDS, BLANK),
            "city": (RECORDS, BLANK),
            "zip_code": (RECORDS, BLANK),
            "decision_reason": (RECORDS, ERASED_TEXT),
        },
    ),
    "refunds.heldfunds": ModelRule("closure__account", {"reason": (RECORDS, ERASED_TEXT)}),
    # An email error may quote the address it could not reach.
    "refunds.holdernotice": ModelRule("closure__account", {"last_error": (IDENTITY, ERASED_TEXT)}),
    # Back-office edits name the user they were made on by address.
    "admin.logentry": ModelRule(None, {"object_repr": (IDENTITY, ERASED_TEXT)}),
    "refunds.legalhold": ModelRule(
        "account", {"reason": (RECORDS, ERASED_TEXT), "lift_reason": (RECORDS, ERASED_TEXT)}
    ),
    # rule B8: the payee as sent to the bank, item by item.
    "refunds.positivepayitem": ModelRule(
        "refund__closure__account", {"payee_name": (RECORDS, PSEUDONYM)}
    ),
    # The stored copy of an issue file names every payee in it: the erasure service empties
    # the copies that carried the holder's checks (their SHA-256, counts and items stay).
    "refunds.positivepayfile": ModelRule(None, {"content": (RECORDS, BLANK)}),
    # A person's note on a paid check the bank file could not match may name the payee.
    "refunds.bankfileexception": ModelRule(
        "refund__closure__account", {"resolution_note": (RECORDS, ERASED_TEXT)}
    ),
}

# Models the audit trail writes about that hold no personal field: how to find the holder,
# whose data keys seal the event's personal values (portal.audit).
HOLDER_PATHS: dict[str, str] = {
    **{
        label: rule.holder_path
        for label, rule in ERASURE_RULES.items()
        if rule.holder_path is not None
    },
    "accounts.customeraccount": "",
    "accounts.directbillstatement": "direct_bill__account",
    "refunds.closure": "account",
    "refunds.inactivitynotice": "account",
    "refunds.inactivityletter": "account",
}

# `str()` of these models names a person or an address: the audit trail seals it.
PERSONAL_REPR = {
    "accounts.user",
    "accounts.mailingaddress",
    "accounts.phonenumber",
    "accounts.securusdebit",
    "accounts.videosession",
    "accounts.supportnote",
}

# Top-level keys of an audit event's before/after values that hold personal data, by the
# stage whose data key seals them (erasing the stage destroys the key).
AUDIT_PERSONAL_KEYS: dict[str, str] = {
    "number": IDENTITY,  # phone numbers
    "label": IDENTITY,
    "text": IDENTITY,  # support notes
    "email": IDENTITY,
    "address": RECORDS,
    "line1": RECORDS,
    "line2": RECORDS,
    "city": RECORDS,
    "zip_code": RECORDS,
    "payee_name": RECORDS,
}

_CHOICE = "a code from a fixed list of choices"
_REFERENCE = "a reference or number auditors keep (B7: references and check numbers stay)"

NOT_PERSONAL: dict[str, dict[str, str]] = {
    "accounts.user": {"language": "a language code"},
    "refunds.positivepayfile": {
        "layout": "a layout's name",
        "bank_account_number": "the portal's own bank account",
        "bank_routing_number": "the portal's own bank",
        "filename": "a name the portal gives the file",
        "sha256": "a hash of the file as sent",
    },
    "refunds.positivepayitem": {"kind": _CHOICE, "check_number": _REFERENCE},
    "refunds.bankfile": {
        "filename": "the bank's file name",
        "sha256": "a hash of the file",
        "content": "a BAI2 paid-items file: the portal's account, check numbers, amounts",
        "imported_by_label": "the staff member or job that imported it",
    },
    "refunds.bankfileexception": {
        "check_number": _REFERENCE,
        "reason": _CHOICE,
        "detail": "what the portal found wrong with a line of the bank's file",
    },
    "accounts.customeraccount": {
        "number": _REFERENCE,
        "status": _CHOICE,
        "service_state": "a state, kept for unclaimed property (B7: states stay)",
        "time_zone": "a time zone name",
        "last_activity_kind": _CHOICE,
    },
    "accounts.mailingaddress": {"state": "a state (B7: states stay)", "source": _CHOICE},
    "accounts.ledgerentry": {
        "kind": _CHOICE,
        "method": _CHOICE,
        "card_brand": "a card brand",
        "card_last4": "four digits of a card, not enough to name anyone",
        "processor_token": _REFERENCE,
    },
    "accounts.topupenrolment": {"kind": _CHOICE},
    "accounts.directbillstatement": {"status": _CHOICE},
    "accounts.directbillcharge": {"description": "a kind of charge the portal writes"},
    "accounts.securusdebit": {"facility": "a facility's name"},
    "accounts.stampentry": {"kind": _CHOICE},
    "accounts.videosubscription": {"plan": "a plan's name", "status": _CHOICE},
    "accounts.videosession": {"facility": "a facility's name", "status": _CHOICE},
    "refunds.closure": {
        "reference": _REFERENCE,
        "reason": _CHOICE,
        "top_ups_terminated": "the kinds of top-up ended",
        "direct_bill_outcome": _CHOICE,
    },
    "refunds.refund": {
        "method": _CHOICE,
        "status": _CHOICE,
        "card_brand": "a card brand",
        "card_last4": "four digits of a card, not enough to name anyone",
        "card_token": _REFERENCE,
        "processor_reference": _REFERENCE,
        "address_state": "a state, kept for unclaimed property (B7: states stay)",
        "check_number": _REFERENCE,
        "escheat_report_reference": _REFERENCE,
    },
    "refunds.inactivitynotice": {"channel": _CHOICE},
    # The file of a background export holds personal data; it is deleted within
    # EXPORT_FILE_EXPIRY_HOURS (`purge_expired_exports`), long before any erasure is due.
    "refunds.exportrun": {
        "exporter": "an export's key",
        "file_format": _CHOICE,
        "status": _CHOICE,
        "file_name": "a random name the portal gives the file",
        "sha256": "a hash of the file as written",
        "error": "a message the portal writes",
    },
    "refunds.heldfunds": {
        "status": _CHOICE,
        "remitted_to_state": "a state (B7: states stay)",
        "report_reference": _REFERENCE,
    },
    "refunds.holdernotice": {"kind": _CHOICE, "key": "the event's kind and row id"},
    "refunds.addresschangerequest": {
        "state": "a state (B7: states stay)",
        "status": _CHOICE,
        "token_hash": "the SHA-256 of a one-time link's token",
    },
    "refunds.erasurerecord": {
        "stage": _CHOICE,
        "categories": "the names of the categories erased",
        "rule": "the rule applied",
    },
    # Personal values are sealed with the holder's data keys before they are written
    # (portal.audit); staff are named by their work address.
    "portal.auditevent": {
        "actor_label": "a staff address, 'holder' or 'system'",
        "action": _CHOICE,
        "object_type": "a model's label",
        "object_id": "a row id",
        "object_repr": "sealed with the holder's data key when it may name them",
        "before": "personal values sealed with the holder's data keys",
        "after": "personal values sealed with the holder's data keys",
        "reason": "sealed with the holder's data key when the event is about a holder",
        "hash": "a hash",
        "key_id": "a key id",
    },
    "portal.auditseal": {
        "digest": "a hash",
        "prev_hash": "a hash",
        "hash": "a hash",
        "key_id": "a key id",
    },
    "portal.datakey": {"purpose": _CHOICE, "master_key_id": "a key id"},
    "auth.permission": {"name": "a permission", "codename": "a permission"},
    "auth.group": {"name": "a staff role"},
    "contenttypes.contenttype": {"app_label": "a model", "model": "a model"},
    "admin.logentry": {
        "object_id": "a row id",
        "change_message": "the names of fields changed, no values",
    },
    # Sessions name the user only by id; the identity stage deletes the holder's sessions
    # (refunds.services.erasure), found by that id.
    "sessions.session": {"session_key": "a random key", "session_data": "a signed user id"},
    "account.emailconfirmation": {"key": "a random key"},
    "mfa.authenticator": {"type": _CHOICE, "data": "a TOTP secret, deleted with the row"},
    "account.emailaddress": {"email": "deleted with the row at the identity stage"},
    # Background tasks take row ids, never personal values (refunds.tasks).
    "django_tasks_database.dbtaskresult": {
        "status": _CHOICE,
        "task_path": "a function's path",
        "queue_name": "a queue",
        "backend_name": "a backend",
        "args_kwargs": "row ids only",
        "return_value": "tasks return nothing personal",
        "exception_class_path": "an exception's class",
        "traceback": "code locations and error messages about rows",
        "worker_ids": "worker ids",
        "run_after": "a time",
    },
}
