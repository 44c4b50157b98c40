import functools
from typing import Any, ClassVar, NoReturn

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _
from localflavor.us.models import USStateField, USZipCodeField
from phonenumber_field.modelfields import PhoneNumberField
from phonenumber_field.phonenumber import PhoneNumber as PhoneNumberValue
from phonenumber_field.phonenumber import to_python

from portal.fields import CentsField


class PortalUserManager(UserManager["User"]):
    """Users are known by their email address; there is no username."""

    use_in_migrations = True

    def _create_user(self, email: str | None, password: str | None, **extra_fields: Any) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(  # type: ignore[override]  # no username: email first
        self, email: str | None = None, password: str | None = None, **extra_fields: Any
    ) -> "User":
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(  # type: ignore[override]  # no username: email first
        self, email: str | None = None, password: str | None = None, **extra_fields: Any
    ) -> "User":
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """Anyone who signs in: account holders and staff alike."""

    username = None  # type: ignore[assignment]  # signed in by email
    email = models.EmailField(_("email address"), unique=True)
    language = models.CharField(
        _("language"),
        max_length=8,
        blank=True,
        # rule B5: empty until the first sign-in or choice; the browser's language until then
        help_text=_("The language of pages and emails for this person."),
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects: ClassVar[PortalUserManager] = PortalUserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.email


def _positive(field: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=models.Q(**{f"{field}__gt": 0}), name="%(app_label)s_%(class)s_" + f"{field}_gt_0"
    )


def _not_negative(field: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=models.Q(**{f"{field}__gte": 0}),
        name="%(app_label)s_%(class)s_" + f"{field}_gte_0",
    )


class CustomerAccount(models.Model):
    """The one customer account of a holder (SPEC §0)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    holder = models.OneToOneField(
        User, on_delete=models.PROTECT, related_name="customer_account", verbose_name=_("holder")
    )
    number = models.CharField(_("account number"), max_length=12, unique=True)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    service_state = USStateField(_("service state"), db_index=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="America/Chicago")
    opened_at = models.DateTimeField(_("opened"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    last_activity_at = models.DateTimeField(_("last activity"), db_index=True)
    last_activity_kind = models.CharField(_("last activity was"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("customer account")
        verbose_name_plural = _("customer accounts")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="open", closed_at__isnull=True)
                | models.Q(status="closed", closed_at__isnull=False),
                name="accounts_customeraccount_closed_at_matches_status",
            ),
        ]
        indexes = [
            # The inactivity sweeps claim a state's open accounts a batch at a time, up the
            # ids (rule N6): at six million accounts, walking the primary key to find them
            # took 1.3 s per batch.
            models.Index(
                fields=["service_state", "status", "id"], name="accounts_acct_state_status_id"
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


def phone_national(number: PhoneNumberValue | str | None) -> str:
    """A phone number as people read it, `+15125550100` → `(512) 555-0100`: numbers are
    stored as E.164, typed and shown in US national format. One that is not a valid
    number is shown as it was stored."""
    if isinstance(number, PhoneNumberValue):
        # Parsed from what was stored or typed, in region US like every number here.
        number = number.raw_input or number.as_e164
    return _national(number or "")


# Validating and formatting a number costs more than the rest of a row on My Account,
# and a holder's calls go to the same few numbers; the result depends on the text alone.
@functools.lru_cache(maxsize=4096)
def _national(text: str) -> str:
    parsed = to_python(text, region="US")
    if not parsed:
        return ""
    return parsed.as_national if parsed.is_valid() else str(parsed)


class PhoneNumber(models.Model):
    """A number the account pays calls to."""

    account = models.ForeignKey(
        CustomerAccount, on_delete=models.PROTECT, related_name="phone_numbers"
    )
    # E.164 is at most 16 characters; 20 is the width the column always had.
    number = PhoneNumberField(_("phone number"), region="US", max_length=20, db_index=True)
    label = models.CharField(_("label"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("phone number")
        verbose_name_plural = _("phone numbers")
        constraints = [
            models.UniqueConstraint(fields=["account", "number"], name="accounts_phone_unique")
        ]

    def __str__(self) -> str:
        return phone_national(self.number)

    @property
    def stored_number(self) -> str:
        """The number as the database holds it: E.164 (as typed if it is not valid)."""
        return PhoneNumber.number.field.get_prep_value(self.number)


class MailingAddress(models.Model):
    """An address on record. Rows are never edited: a change is a new row, the old one is
    kept as history with `replaced_at` set. Confirming (SPEC D2) stamps `confirmed_at`."""

    class Source(models.TextChoices):
        HOLDER = "holder", _("Holder")
        SUPPORT = "support", _("Support")
        CLAIM = "claim", _("Refund claim")
        IMPORT = "import", _("Imported")

    account = models.ForeignKey(CustomerAccount, on_delete=models.PROTECT, related_name="addresses")
    line1 = models.CharField(_("address line 1"), max_length=100)
    line2 = models.CharField(_("address line 2"), max_length=100, blank=True)
    city = models.CharField(_("city"), max_length=60)
    state = USStateField(_("state"))
    zip_code = USZipCodeField(_("ZIP code"))
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.HOLDER)
    created_at = models.DateTimeField(_("recorded"))
    confirmed_at = models.DateTimeField(_("last confirmed"), null=True, blank=True)
    replaced_at = models.DateTimeField(_("replaced"), null=True, blank=True)

    class Meta:
        verbose_name = _("mailing address")
        verbose_name_plural = _("mailing addresses")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=models.Q(replaced_at__isnull=True),
                name="accounts_one_current_address",
            )
        ]

    def __str__(self) -> str:
        return ", ".join(self.lines())

    def lines(self) -> list[str]:
        return [
            line
            for line in (self.line1, self.line2, f"{self.city} {self.state} {self.zip_code}")
            if line
        ]

    def as_dict(self) -> dict[str, str]:
        return {
            "line1": self.line1,
            "line2": self.line2,
            "city": self.city,
            "state": self.state,
            "zip_code": self.zip_code,
        }


# --- AdvanceConnect: a prepaid calling balance, kept as a ledger ---


class AdvanceConnect(models.Model):
    account = models.OneToOneField(
        CustomerAccount, on_delete=models.PROTECT, related_name="advance_connect"
    )
    opened_at = models.DateTimeField(_("opened"))
    # Kept by accounts.services.ledger_entries_post and ledger_charges_settle in the same
    # transaction as the ledger row, so pages never sum the ledger; `verify_balances`
    # proves them against it.
    balance_cents = CentsField(_("balance (cents)"), default=0)
    unsettled_cents = CentsField(_("unsettled call charges (cents)"), default=0)
    unsettled_count = models.PositiveIntegerField(_("unsettled call charges"), default=0)

    class Meta:
        verbose_name = _("AdvanceConnect prepaid account")
        verbose_name_plural = _("AdvanceConnect prepaid accounts")
        constraints = [_not_negative("unsettled_cents")]

    def __str__(self) -> str:
        return f"AdvanceConnect {self.account.number}"


class PurchaseMethod(models.TextChoices):
    ONLINE_CARD = "online_card", _("Online, by credit or debit card")
    WESTERN_UNION = "western_union", _("Western Union")
    MONEYGRAM = "moneygram", _("MoneyGram")
    MAIL = "mail", _("By mail")


class LedgerEntry(models.Model):
    """One row of the AdvanceConnect ledger; the balance is their sum (SPEC §0), kept
    on AdvanceConnect as each row is written.

    Amounts are positive cents; `kind` says which way the money moves. Rows are never
    edited, except that a call charge is stamped `settled_at` once, when it is deducted.
    """

    class Kind(models.TextChoices):
        DEPOSIT = "deposit", _("Deposit")
        CALL_CHARGE = "call_charge", _("Call charge")
        REFUND = "refund", _("Refund at closure")
        SHORTFALL = "shortfall", _("Shortfall written off")

    CREDITS = (Kind.DEPOSIT, Kind.SHORTFALL)

    advance_connect = models.ForeignKey(
        AdvanceConnect, on_delete=models.PROTECT, related_name="entries"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    amount_cents = CentsField(_("amount (cents)"))
    occurred_at = models.DateTimeField(_("when"))
    method = models.CharField(
        _("purchase method"), max_length=16, choices=PurchaseMethod.choices, blank=True
    )
    card_brand = models.CharField(_("card brand"), max_length=20, blank=True)
    card_last4 = models.CharField(_("card last 4"), max_length=4, blank=True)
    processor_token = models.CharField(_("processor reference"), max_length=64, blank=True)
    number_called = PhoneNumberField(_("number called"), region="US", max_length=20, blank=True)
    settled_at = models.DateTimeField(_("settled"), null=True, blank=True)
    memo = models.CharField(_("memo"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("AdvanceConnect ledger entry")
        verbose_name_plural = _("AdvanceConnect ledger entries")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            # The latest rows of one kind (My Account's calls, the last deposit): ORDER BY
            # occurred_at DESC, id DESC LIMIT n read straight off the index, at any size.
            models.Index(
                fields=["advance_connect", "kind", "occurred_at", "id"],
                name="accounts_ledger_kind_latest",
            ),
            # The latest rows of one account (admin ledger, records download), newest first.
            models.Index(
                fields=["advance_connect", "-occurred_at", "-id"], name="accounts_ledger_recent"
            ),
            # Unsettled call charges, oldest first: read without touching settled history.
            models.Index(
                fields=["advance_connect", "occurred_at", "id"],
                condition=models.Q(kind="call_charge", settled_at__isnull=True),
                name="accounts_ledger_unsettled",
            ),
        ]
        constraints = [
            _positive("amount_cents"),
            models.CheckConstraint(
                condition=~models.Q(kind="deposit") | ~models.Q(method=""),
                name="accounts_ledgerentry_deposit_has_method",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount_cents}c {self.occurred_at:%Y-%m-%d}"

    @property
    def signed_cents(self) -> int:
        return self.amount_cents if self.kind in self.CREDITS else -self.amount_cents


class TopUpEnrolment(models.Model):
    """TextPay or AutoPay, the ways to top AdvanceConnect up."""

    class Kind(models.TextChoices):
        TEXTPAY = "textpay", _("TextPay")
        AUTOPAY = "autopay", _("AutoPay")

    account = models.ForeignKey(CustomerAccount, on_delete=models.PROTECT, related_name="top_ups")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    enrolled_at = models.DateTimeField(_("since"))
    terminated_at = models.DateTimeField(_("terminated"), null=True, blank=True)

    class Meta:
        verbose_name = _("TextPay / AutoPay enrolment")
        verbose_name_plural = _("TextPay / AutoPay enrolments")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "kind"],
                condition=models.Q(terminated_at__isnull=True),
                name="accounts_one_active_top_up_per_kind",
            )
        ]

    def __str__(self) -> str:
        return self.get_kind_display()

    @property
    def is_active(self) -> bool:
        return self.terminated_at is None


# --- Direct Bill: postpaid, billed monthly ---


class DirectBill(models.Model):
    account = models.OneToOneField(
        CustomerAccount, on_delete=models.PROTECT, related_name="direct_bill"
    )
    billing_day = models.PositiveSmallIntegerField(_("billing day of month"), default=1)
    opened_at = models.DateTimeField(_("opened"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("Direct Bill account")
        verbose_name_plural = _("Direct Bill accounts")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(billing_day__gte=1, billing_day__lte=28),
                name="accounts_directbill_billing_day_1_28",
            )
        ]

    def __str__(self) -> str:
        return f"Direct Bill {self.account.number}"


class DirectBillStatement(models.Model):
    """A monthly bill, or the final bill of a closed account (SPEC E5, §4)."""

    class Status(models.TextChoices):
        ISSUED = "issued", _("Issued")
        PARTIALLY_PAID = "partially_paid", _("Partially paid")
        PAID = "paid", _("Paid")
        PAST_DUE = "past_due", _("Past due")
        WRITTEN_OFF = "written_off", _("Written off")

    direct_bill = models.ForeignKey(DirectBill, on_delete=models.PROTECT, related_name="statements")
    statement_date = models.DateField(_("statement date"))
    amount_cents = CentsField(_("amount (cents)"))
    due_date = models.DateField(_("due date"))
    is_final = models.BooleanField(_("final statement"), default=False)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ISSUED, db_index=True
    )
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("Direct Bill statement")
        verbose_name_plural = _("Direct Bill statements")
        ordering = ["-statement_date", "-id"]
        constraints = [_not_negative("amount_cents")]
        # The back office lists and exports final statements by date (SPEC §4, §5).
        indexes = [
            models.Index(fields=["is_final", "statement_date"]),
            # The daily sweep looks for open statements past their due date (SPEC §4).
            models.Index(fields=["status", "due_date"]),
        ]

    def __str__(self) -> str:
        return f"{'Final statement' if self.is_final else 'Statement'} {self.statement_date}"


class DirectBillCharge(models.Model):
    """A call or other charge on a Direct Bill account; unbilled until on a statement."""

    direct_bill = models.ForeignKey(DirectBill, on_delete=models.PROTECT, related_name="charges")
    occurred_at = models.DateTimeField(_("when"))
    number_called = PhoneNumberField(_("number called"), region="US", max_length=20, blank=True)
    description = models.CharField(_("description"), max_length=120, default="Call")
    amount_cents = CentsField(_("amount (cents)"))
    statement = models.ForeignKey(
        DirectBillStatement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="charges",
    )

    class Meta:
        verbose_name = _("Direct Bill charge")
        verbose_name_plural = _("Direct Bill charges")
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["direct_bill", "statement", "occurred_at"])]
        constraints = [_positive("amount_cents")]

    def __str__(self) -> str:
        return f"{self.description} {self.amount_cents}c"


class DirectBillPayment(models.Model):
    statement = models.ForeignKey(
        DirectBillStatement, on_delete=models.PROTECT, related_name="payments"
    )
    amount_cents = CentsField(_("amount (cents)"))
    paid_at = models.DateTimeField(_("paid"))
    recorded_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("Direct Bill payment")
        verbose_name_plural = _("Direct Bill payments")
        constraints = [_positive("amount_cents")]

    def __str__(self) -> str:
        return f"Payment {self.amount_cents}c"


# --- Securus Debit, eMessaging, VideoConnect ---


class SecurusDebit(models.Model):
    """Money deposited for the incarcerated person; it is theirs (SPEC E6)."""

    account = models.ForeignKey(
        CustomerAccount, on_delete=models.PROTECT, related_name="debit_accounts"
    )
    incarcerated_name = models.CharField(_("incarcerated person"), max_length=120)
    facility = models.CharField(_("facility"), max_length=120)
    balance_cents = CentsField(_("balance (cents)"), default=0)

    class Meta:
        verbose_name = _("Securus Debit account")
        verbose_name_plural = _("Securus Debit accounts")
        constraints = [_not_negative("balance_cents")]

    def __str__(self) -> str:
        return f"Securus Debit for {self.incarcerated_name}"


class EMessaging(models.Model):
    account = models.OneToOneField(
        CustomerAccount, on_delete=models.PROTECT, related_name="emessaging"
    )

    class Meta:
        verbose_name = _("eMessaging account")
        verbose_name_plural = _("eMessaging accounts")

    def __str__(self) -> str:
        return f"eMessaging {self.account.number}"


class StampEntry(models.Model):
    """Stamps bought, used, or forfeited at closure (SPEC E7); the balance is the sum."""

    class Kind(models.TextChoices):
        PURCHASE = "purchase", _("Purchase")
        USE = "use", _("Used")
        FORFEIT = "forfeit", _("Forfeited at closure")

    emessaging = models.ForeignKey(EMessaging, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    stamps = models.PositiveIntegerField(_("stamps"))
    amount_cents = CentsField(_("amount paid (cents)"), default=0)
    occurred_at = models.DateTimeField(_("when"))

    class Meta:
        verbose_name = _("stamp entry")
        verbose_name_plural = _("stamp entries")
        ordering = ["-occurred_at", "-id"]
        constraints = [_positive("stamps"), _not_negative("amount_cents")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.stamps}"


class VideoSubscription(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        CANCELLED = "cancelled", _("Cancelled")

    account = models.ForeignKey(
        CustomerAccount, on_delete=models.PROTECT, related_name="video_subscriptions"
    )
    plan = models.CharField(_("plan"), max_length=80)
    monthly_price_cents = CentsField(_("monthly price (cents)"), default=0)
    started_at = models.DateTimeField(_("started"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)

    class Meta:
        verbose_name = _("VideoConnect subscription")
        verbose_name_plural = _("VideoConnect subscriptions")
        constraints = [_not_negative("monthly_price_cents")]

    def __str__(self) -> str:
        return self.plan


class VideoSession(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        CANCELLED = "cancelled", _("Cancelled")
        VOIDED = "voided", _("Voided at closure")
        COMPLETED = "completed", _("Completed")

    account = models.ForeignKey(
        CustomerAccount, on_delete=models.PROTECT, related_name="video_sessions"
    )
    starts_at = models.DateTimeField(_("starts"))
    facility = models.CharField(_("facility"), max_length=120)
    incarcerated_name = models.CharField(_("with"), max_length=120)
    amount_paid_cents = CentsField(_("amount paid (cents)"), default=0)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.SCHEDULED
    )
    status_changed_at = models.DateTimeField(_("status changed"), null=True, blank=True)

    class Meta:
        verbose_name = _("VideoConnect session")
        verbose_name_plural = _("VideoConnect sessions")
        ordering = ["starts_at", "id"]
        constraints = [_not_negative("amount_paid_cents")]

    def __str__(self) -> str:
        return f"Video session {self.starts_at:%Y-%m-%d %H:%M} with {self.incarcerated_name}"


class SupportNote(models.Model):
    """A note staff write on an account (SPEC §5). Append-only: a note is never edited
    or deleted; a correction is a new note."""

    account = models.ForeignKey(
        CustomerAccount, on_delete=models.PROTECT, related_name="support_notes"
    )
    author = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=_("written by")
    )
    created_at = models.DateTimeField(_("written"))
    text = models.TextField(_("note"))

    class Meta:
        verbose_name = _("support note")
        verbose_name_plural = _("support notes")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("record_support_contact", _("Can record that a holder contacted support")),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d} {self.text[:60]}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("A support note is never changed once written.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise ValueError("A support note is never deleted.")
