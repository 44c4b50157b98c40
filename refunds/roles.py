"""Staff roles as auth groups with exactly the permissions of SPEC §5.

- Support: sees the holder's file (services, closures, refunds, statements, notes,
  held funds, emails sent and failed tasks), adds notes, records that the holder
  called (activity, N2). Cannot move money.
- Refund operations: sees the same, and moves refunds, checks, held funds and final
  statements through SPEC §3 and §4 (held funds with `refunds.move_refund`: holding
  voids a check and a claim issues one, so it is the same authority over refunds).
- Auditor: reads everything and exports; changes nothing.

The data migrations `refunds.0004_staff_roles` and `refunds.0006_staff_see_what_failed`
create and update the groups with `roles_sync`, and every `migrate` runs it again
(`RefundsConfig.ready`), so a model added later is readable by auditors at once and a
group edited by hand is put back.
"""

from django.apps import apps as global_apps
from django.contrib.auth.models import Group
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


def roles_sync(apps=global_apps) -> None:
    """Create or update the three groups so they hold exactly their permissions."""
    Role = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, names in ROLE_PERMISSIONS.items():
        permissions = Permission.objects.filter(_named(names))
        found = {
            f"{app_label}.{codename}"
            for app_label, codename in permissions.values_list(
                "content_type__app_label", "codename"
            )
        }
        missing = set(names) - found
        # In a migration, a model that a later migration creates has no permissions
        # yet; that migration syncs the roles again. After migrate, all must exist.
        if missing and apps is global_apps:
            raise LookupError(f"Permissions not found for {role}: {sorted(missing)}")
        if role == AUDITOR:
            permissions = Permission.objects.filter(
                _named(names)
                | Q(content_type__app_label__in=AUDITED_APPS, codename__startswith="view_")
            )
        group, _created = Role.objects.get_or_create(name=role)
        group.permissions.set(permissions)


def assign_demo_roles() -> None:
    """Put the demo staff of `seed_demo` in their groups (those that exist)."""
    for email, role in DEMO_ROLES.items():
        user = User.objects.filter(email=email).first()
        if user is not None:
            user.groups.add(Group.objects.get(name=role))
