"""Staff roles as auth groups with exactly the permissions of SPEC §5.

- Support: sees the holder's file (services, closures, refunds, statements, notes,
  held funds, emails sent and failed tasks), adds notes, records that the holder
  called (activity, N2). Cannot move money.
- Refund operations: sees the same, and moves refunds, checks, held funds and final
  statements through SPEC §3 and §4 (held funds with `refunds.move_refund`: holding
  voids a check and a claim issues one, so it is the same authority over refunds).
- Auditor: reads everything and exports; changes nothing.

Every `migrate` creates or updates the groups with `roles_sync` once all permissions
exist (post_migrate, `RefundsConfig.ready`), a fresh database included, so a model added
later is readable by auditors at once and a group edited by hand is put back.
"""

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

from accounts.models import User

SUPPORT = "Support"
REFUND_OPERATIONS = "Refund operations"
AUDITOR = "Auditor"

HOLDER_FILE = [
    f"accounts.view_{model}"
    for model in (
        "customeraccount",
        "phonenumber",
        "mailingaddress",
        "advanceconnect",
        "ledgerentry",
        "topupenrolment",
        "directbill",
        "directbillstatement",
        "directbillcharge",
        "directbillpayment",
        "securusdebit",
        "emessaging",
        "stampentry",
        "videosubscription",
        "videosession",
        "supportnote",
    )
] + [
    "refunds.view_closure",
    "refunds.view_refund",
    # what became of it: money held (N4), emails to the holder and whether they went,
    # and the background tasks behind them, failed ones included
    "refunds.view_heldfunds",
    "refunds.view_holdernotice",
    "refunds.view_inactivitynotice",
    # new addresses given without signing in, awaiting confirmation (B3)
    "refunds.view_addresschangerequest",
    "refunds.view_inactivityletter",
    "django_tasks_database.view_dbtaskresult",
    # rule B7: what was erased and when, and the holds that pause erasure
    "refunds.view_erasurerecord",
    "refunds.view_legalhold",
]

ROLE_PERMISSIONS = {
    # rule N3: both mail the inactivity letters of holders with no email on record
    SUPPORT: [
        *HOLDER_FILE,
        "accounts.add_supportnote",
        "accounts.record_support_contact",
        "refunds.mail_letter",
        # rule B7: Support places and lifts legal holds
        "refunds.add_legalhold",
        "refunds.place_legal_hold",
    ],
    REFUND_OPERATIONS: [
        *HOLDER_FILE,
        # rule B8: bank files; making and applying them is `move_refund`
        "refunds.view_positivepayfile",
        "refunds.view_positivepayitem",
        "refunds.view_bankfile",
        "refunds.view_bankfileexception",
        "refunds.move_refund",
        "refunds.move_statement",
        "refunds.mail_letter",
    ],
    # and every view permission of AUDITED_APPS
    AUDITOR: ["refunds.export_records"],
}
AUDITED_APPS = ["accounts", "refunds", "portal", "django_tasks_database"]

DEMO_ROLES = {
    "support@demo.test": SUPPORT,
    "refunds@demo.test": REFUND_OPERATIONS,
    "auditor@demo.test": AUDITOR,
}


def _named(names) -> Q:
    condition = Q(pk__in=[])
    for name in names:
        app_label, codename = name.split(".")
        condition |= Q(content_type__app_label=app_label, codename=codename)
    return condition


def roles_sync() -> None:
    """Create or update the three groups so they hold exactly their permissions."""
    for role, names in ROLE_PERMISSIONS.items():
        permissions = Permission.objects.filter(_named(names))
        found = {
            f"{app_label}.{codename}"
            for app_label, codename in permissions.values_list(
                "content_type__app_label", "codename"
            )
        }
        if missing := set(names) - found:
            raise LookupError(f"Permissions not found for {role}: {sorted(missing)}")
        if role == AUDITOR:
            permissions = Permission.objects.filter(
                _named(names)
                | Q(content_type__app_label__in=AUDITED_APPS, codename__startswith="view_")
            )
        group, _created = Group.objects.get_or_create(name=role)
        group.permissions.set(permissions)


def assign_demo_roles() -> None:
    """Put the demo staff of `seed_demo` in their groups (those that exist)."""
    for email, role in DEMO_ROLES.items():
        user = User.objects.filter(email=email).first()
        if user is not None:
            user.groups.add(Group.objects.get(name=role))
