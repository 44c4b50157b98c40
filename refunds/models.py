import datetime as dt
import secrets
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from localflavor.us.models import USStateField, USZipCodeField

from accounts.models import CustomerAccount, DirectBillStatement, MailingAddress
from portal.fields import CentsField

# No 0/O, 1/I/L: a reference read out over the phone must not be misheard.
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def new_closure_reference() -> str:
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"CL-{chars[:4]}-{chars[4:]}"


class Closure(models.Model):
    """The record that an account was closed, why, when, by whom, and what happened to
    each service (SPEC §0, E1-E9). An account is closed at most once."""

    class Reason(models.TextChoices):
        HOLDER_REQUEST = "holder_request", _("Holder request")
        INACTIVITY = "inactivity", _("Inactivity")

    class DirectBillOutcome(models.TextChoices):
        NONE = "", _("No Direct Bill")
        HELD = "held", _("Held for unbilled charges")
        FINAL_STATEMENT = "final_statement", _("Final statement issued")
        CLOSED_NO_INVOICE = "closed_no_invoice", _("Closed with nothing owed")

    reference = models.CharField(
        _("closure reference"), max_length=12, unique=True, default=new_closure_reference
    )
    account = models.OneToOneField(
        CustomerAccount, on_delete=models.PROTECT, related_name="closure"
    )
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    closed_at = models.DateTimeField(_("closed"))
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closed by"),
    )
    # The address the holder confirmed in step D2, as it was then.
    address = models.ForeignKey(
        MailingAddress, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    address_confirmed_at = models.DateTimeField(_("address confirmed"), null=True, blank=True)
    # AdvanceConnect (E3, E4)
    balance_before_cents = CentsField(_("balance before closure"), default=0)
    deducted_cents = CentsField(_("unsettled charges deducted"), default=0)
    shortfall_cents = CentsField(_("shortfall recorded, not charged"), default=0)
    refund_cents = CentsField(_("refund"), default=0)
    # Services (E2, E5-E8)
    top_ups_terminated = models.CharField(
        _("TextPay/AutoPay terminated"), max_length=40, blank=True
    )
    direct_bill_outcome = models.CharField(
        _("Direct Bill"), max_length=20, choices=DirectBillOutcome.choices, blank=True
    )
    direct_bill_hold_from = models.DateField(
        _("Direct Bill hold: not before"), null=True, blank=True
    )
    direct_bill_hold_until = models.DateField(_("Direct Bill hold: by"), null=True, blank=True)
    final_statement = models.OneToOneField(
        DirectBillStatement, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    debit_untouched_cents = CentsField(_("Securus Debit left untouched"), default=0)
    stamps_forfeited = models.PositiveIntegerField(_("eMessaging stamps forfeited"), default=0)
    sessions_voided = models.PositiveIntegerField(_("video sessions voided"), default=0)
    subscriptions_cancelled = models.PositiveIntegerField(
        _("video subscriptions cancelled"), default=0
    )
    confirmation_emailed_at = models.DateTimeField(_("confirmation emailed"), null=True, blank=True)

    class Meta:
        verbose_name = _("closure")
        verbose_name_plural = _("closures")
        ordering = ["-closed_at", "-id"]
        indexes = [
            # The daily sweep looks for Direct Bill holds that have run their 7 days (E5).
            models.Index(fields=["direct_bill_outcome", "direct_bill_hold_from"]),
            # The list's order, whole: an inactivity sweep closes thousands at one moment,
            # and with `closed_at` alone PostgreSQL sorted them all for a page of 25.
            models.Index(fields=["closed_at", "id"], name="refunds_closure_closed_id"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    deducted_cents__gte=0,
                    shortfall_cents__gte=0,
                    refund_cents__gte=0,
                    debit_untouched_cents__gte=0,
                ),
                name="refunds_closure_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def direct_bill_final_statement_issued(self) -> bool:
        return self.direct_bill_outcome == self.DirectBillOutcome.FINAL_STATEMENT

    @property
    def direct_bill_closed_no_invoice(self) -> bool:
        return self.direct_bill_outcome == self.DirectBillOutcome.CLOSED_NO_INVOICE


class Refund(models.Model):
    """Money going back to a holder: a card refund or a refund check (SPEC §3).

    The amount never changes once created; a correction voids and reissues, and the
    new refund points at the one it replaces.
    """

    class Method(models.TextChoices):
        CARD = "card", _("Card refund")
        CHECK = "check", _("Refund check")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUBMITTED = "submitted", _("Submitted to the card processor")
        SETTLED = "settled", _("Settled")
        FAILED = "failed", _("Failed")
        ISSUED = "issued", _("Issued")
        MAILED = "mailed", _("Mailed")
        CASHED = "cashed", _("Cashed")
        RETURNED = "returned", _("Returned undeliverable")
        REISSUED = "reissued", _("Reissued")
        VOID = "void", _("Void")
        STALE = "stale", _("Stale (uncashed)")
        ESCHEATED = "escheated", _("Remitted to the state")

    closure = models.ForeignKey(Closure, on_delete=models.PROTECT, related_name="refunds")
    replaces = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaced_by",
        verbose_name=_("replaces"),
    )
    method = models.CharField(_("method"), max_length=8, choices=Method.choices, db_index=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    amount_cents = CentsField(_("amount"))
    created_at = models.DateTimeField(_("created"))
    due_date = models.DateField(_("due"), db_index=True)
    needs_review = models.BooleanField(
        _("needs staff review"),
        default=False,
        help_text=_("No deposit, or a purchase method the rules do not cover (rule E4)."),
    )
    status_changed_at = models.DateTimeField(_("status changed"))
    status_reason = models.TextField(_("reason for the last change"), blank=True)
    # Card refunds
    card_brand = models.CharField(_("card brand"), max_length=20, blank=True)
    card_last4 = models.CharField(_("card last 4"), max_length=4, blank=True)
    card_token = models.CharField(_("card processor token"), max_length=64, blank=True)
    processor_reference = models.CharField(_("processor reference"), max_length=64, blank=True)
    # Refund checks: payee and the address the check goes to, as mailed
    payee_name = models.CharField(_("payee"), max_length=150, blank=True)
    address_line1 = models.CharField(_("address line 1"), max_length=100, blank=True)
    address_line2 = models.CharField(_("address line 2"), max_length=100, blank=True)
    address_city = models.CharField(_("city"), max_length=60, blank=True)
    address_state = USStateField(_("state"), blank=True)
    address_zip = USZipCodeField(_("ZIP code"), blank=True)
    check_number = models.CharField(
        _("check number"), max_length=20, null=True, blank=True, unique=True
    )
    issued_on = models.DateField(_("issued"), null=True, blank=True)
    mailed_on = models.DateField(_("mailed"), null=True, blank=True)
    cleared_on = models.DateField(_("cashed"), null=True, blank=True)
    escheat_report_reference = models.CharField(
        _("unclaimed property report"), max_length=64, blank=True
    )
    # Card refund submission to the processor: retried with backoff (see refunds.tasks).
    submit_attempts = models.PositiveSmallIntegerField(_("submission attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_error = models.TextField(_("last processor error"), blank=True)
    # The attempt in progress (claimed by a worker) started at; it owns the refund until
    # `next_attempt_at`, when it is taken over if it never answered.
    submit_claimed_at = models.DateTimeField(_("attempt in progress since"), null=True, blank=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "due_date"]),
            # The back office lists newest first; exports filter by date (SPEC §5).
            models.Index(fields=["created_at", "id"]),
            models.Index(fields=["method", "issued_on"]),
            # The dashboard at ten million refunds (issue 13): the refunds still to send
            # (due today, overdue, checks to print or mail) are a few in a hundred, and
            # the chart counts checks cleared per day; each was a full scan (3.4 s).
            models.Index(
                fields=["due_date", "method", "status"],
                include=["amount_cents"],
                condition=models.Q(status__in=["pending", "issued"]),
                name="refunds_refund_to_send",
            ),
            models.Index(fields=["method", "cleared_on"], name="refunds_refund_cleared"),
        ]
        permissions = [
            ("move_refund", _("Can move refunds and checks through their statuses")),
            ("move_statement", _("Can record payments on and move final statements")),
            ("export_records", _("Can export records for audit")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_cents__gt=0), name="refunds_refund_amount_gt_0"
            ),
            # The money of a closure is refunded once: one original refund per closure,
            # and each refund is replaced at most once (the OneToOne on `replaces`).
            models.UniqueConstraint(
                fields=["closure"],
                condition=models.Q(replaces__isnull=True),
                name="refunds_one_original_refund_per_closure",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    method="card",
                    status__in=["pending", "submitted", "settled", "failed"],
                )
                | models.Q(
                    method="check",
                    status__in=[
                        "pending",
                        "issued",
                        "mailed",
                        "cashed",
                        "returned",
                        "reissued",
                        "void",
                        "stale",
                        "escheated",
                    ],
                ),
                name="refunds_refund_status_fits_method",
            ),
        ]

    def __str__(self) -> str:
        if self.check_number:
            label = f"check {self.check_number}"
        else:  # the sweeps name thousands: an enum lookup, not get_method_display()
            label = (
                str(self.Method(self.method).label) if self.method in self.Method else self.method
            )
        return f"{self.closure.reference} {label}"

    @property
    def is_card(self) -> bool:
        return self.method == self.Method.CARD

    @property
    def is_check(self) -> bool:
        return self.method == self.Method.CHECK

    def address_lines(self) -> list[str]:
        city_line = f"{self.address_city} {self.address_state} {self.address_zip}".strip()
        return [line for line in (self.address_line1, self.address_line2, city_line) if line]


class InactivityNotice(models.Model):
    """A notice telling a New Mexico holder their inactive account will be closed
    (rule N3). One per account, lead time and inactivity period, so a re-run sends
    nothing twice and new activity starts a new period (and ends this one's notices).

    It goes by email, or, when there is no email on record, as a letter that staff mail;
    `sent_at` is when it left either way, and only a notice that left counts (N3)."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        LETTER = "letter", _("Letter")

    account = models.ForeignKey(
        CustomerAccount, on_delete=models.PROTECT, related_name="inactivity_notices"
    )
    days_before = models.PositiveSmallIntegerField(_("days before closure"))
    inactive_since = models.DateTimeField(_("inactive since"))
    closes_on = models.DateField(_("closes on"))
    channel = models.CharField(
        _("sent by"), max_length=8, choices=Channel.choices, default=Channel.EMAIL
    )
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("inactivity notice")
        verbose_name_plural = _("inactivity notices")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "days_before", "inactive_since"],
                name="refunds_one_inactivity_notice_per_period",
            )
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.days_before} days before {self.closes_on}"


class InactivityLetterManager(models.Manager["InactivityLetter"]):
    def get_queryset(self) -> models.QuerySet["InactivityLetter"]:
        return super().get_queryset().filter(channel=InactivityNotice.Channel.LETTER)


class InactivityLetter(InactivityNotice):
    """The staff list of inactivity notices to mail on paper (no email on record)."""

    objects: ClassVar[InactivityLetterManager] = InactivityLetterManager()

    class Meta:
        proxy = True
        verbose_name = _("letter to mail")
        verbose_name_plural = _("letters to mail")
        permissions = [("mail_letter", "Can record that an inactivity letter was mailed")]


class ExportRun(models.Model):
    """One export an auditor took (SPEC §5: every export is itself recorded: who,
    what, filter, row count). Written with its audit event before any row leaves.

    An export too big for a request (XLSX, and CSV past `EXPORT_CSV_BACKGROUND_ROWS`) is
    written to a private file by a background task (issue 13): its status, progress and
    file are kept here, and only the auditor who asked downloads it, until `expires_at`."""

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX (Excel)"
        NAUPA = "txt", "NAUPA standard format (fixed width)"

    class Status(models.TextChoices):
        STREAMED = "streamed", "Sent at once"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Being written"
        READY = "ready", "Ready to download"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"

    exporter = models.CharField(_("export"), max_length=32)
    file_format = models.CharField(_("format"), max_length=4, choices=Format.choices)
    date_from = models.DateField(_("from"))
    date_to = models.DateField(_("to"))
    row_count = models.PositiveIntegerField(_("rows"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    created_at = models.DateTimeField(_("when"), db_index=True)
    # The rows are those up to this id when the export was asked for (the count's rows).
    last_id = models.PositiveBigIntegerField("highest row id", null=True, blank=True)
    status = models.CharField(
        "status", max_length=10, choices=Status.choices, default=Status.STREAMED
    )
    rows_written = models.PositiveIntegerField("rows written", default=0)
    started_at = models.DateTimeField("started", null=True, blank=True)
    finished_at = models.DateTimeField("finished", null=True, blank=True)
    file_name = models.CharField("file on the server", max_length=64, blank=True)
    file_size = models.PositiveBigIntegerField("file size", null=True, blank=True)
    sha256 = models.CharField("SHA-256", max_length=64, blank=True)
    expires_at = models.DateTimeField("download until", null=True, blank=True, db_index=True)
    error = models.TextField("why it failed", blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.exporter} {self.date_from}..{self.date_to} ({self.file_format})"


class HeldFunds(models.Model):
    """Money that could not be refunded (rule N4): held until the holder claims it (N5)
    or it is disposed of under the law, e.g. remitted to a state as unclaimed property."""

    class Status(models.TextChoices):
        HELD = "held", _("Held")
        CLAIMED = "claimed", _("Claimed by the holder")
        REMITTED = "remitted", _("Remitted to the state")

    closure = models.ForeignKey(Closure, on_delete=models.PROTECT, related_name="held_funds")
    refund = models.OneToOneField(
        Refund,
        on_delete=models.PROTECT,
        related_name="held_funds",
        verbose_name=_("refund that could not be made"),
    )
    amount_cents = CentsField(_("amount"))
    held_since = models.DateTimeField(_("held since"), db_index=True)
    reason = models.TextField(_("why it is held"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.HELD, db_index=True
    )
    owner_notice_mailed_on = models.DateField(_("owner notice mailed"), null=True, blank=True)
    claimed_by_refund = models.OneToOneField(
        Refund,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="claims",
        verbose_name=_("paid out by"),
    )
    remitted_on = models.DateField(_("remitted"), null=True, blank=True)
    remitted_to_state = USStateField(_("remitted to"), blank=True)
    report_reference = models.CharField(_("unclaimed property report"), max_length=64, blank=True)
    status_changed_at = models.DateTimeField(_("status changed"))

    class Meta:
        verbose_name = _("held funds")
        verbose_name_plural = _("held funds")
        ordering = ["-held_since", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_cents__gt=0), name="refunds_heldfunds_amount_gt_0"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="remitted")
                | (models.Q(remitted_on__isnull=False) & ~models.Q(report_reference="")),
                name="refunds_heldfunds_remitted_has_report",
            ),
        ]

    def __str__(self) -> str:
        return f"Held funds {self.closure.reference}"


class HolderNotice(models.Model):
    """An email to a holder about their refund or bill, written in the same transaction
    as the event and sent after commit; `sent_at` empty means not yet sent, and
    `retry_pending_work` retries it. One per event (`key`), so nothing is sent twice."""

    class Kind(models.TextChoices):
        CARD_REFUND_SENT = "card_refund_sent", _("Card refund sent")
        CHECK_MAILED = "check_mailed", _("Refund check mailed")
        CHECK_RETURNED = "check_returned", _("Refund check returned")
        FINAL_STATEMENT = "final_statement", _("Final statement issued")
        DIRECT_BILL_CLOSED = "direct_bill_closed", _("Direct Bill closed, nothing owed")
        FUNDS_HELD = "funds_held", _("Refund held")

    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    key = models.CharField(_("event"), max_length=80, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    closure = models.ForeignKey(Closure, on_delete=models.PROTECT, related_name="notices")
    refund = models.ForeignKey(
        Refund, on_delete=models.PROTECT, null=True, blank=True, related_name="notices"
    )
    created_at = models.DateTimeField(_("created"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True, db_index=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("email to a holder")
        verbose_name_plural = _("emails to holders")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.closure.reference})"


class AddressChangeRequest(models.Model):
    """A new address for a returned check or held funds, given on the refund status page
    without signing in (rules B3, N5). It sends no money by itself: the holder confirms
    it with the one-time link emailed to the address on record, or Refund operations
    approve it after a call; only then is the new check created (`new_refund`). Only
    the hash of the link's token is kept."""

    class Status(models.TextChoices):
        AWAITING_CONFIRMATION = "awaiting", _("Awaiting confirmation")
        CONFIRMED = "confirmed", _("Confirmed by the holder")
        APPROVED = "approved", _("Approved by Refund operations")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Link expired")

    closure = models.ForeignKey(Closure, on_delete=models.PROTECT, related_name="address_changes")
    # What the holder asked to have sent: a returned check, or held funds.
    refund = models.ForeignKey(
        Refund,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("returned check"),
    )
    held_funds = models.ForeignKey(
        HeldFunds,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("held funds"),
    )
    line1 = models.CharField(_("address line 1"), max_length=100)
    line2 = models.CharField(_("address line 2"), max_length=100, blank=True)
    city = models.CharField(_("city"), max_length=60)
    state = USStateField(_("state"))
    zip_code = USZipCodeField(_("ZIP code"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=Status.choices,
        default=Status.AWAITING_CONFIRMATION,
        db_index=True,
    )
    token_hash = models.CharField(_("link token (SHA-256)"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("asked"), db_index=True)
    emailed_at = models.DateTimeField(_("link emailed"), null=True, blank=True)
    expires_at = models.DateTimeField(_("link expires"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decision_reason = models.TextField(_("why"), blank=True)
    new_refund = models.OneToOneField(
        Refund,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="address_change",
        verbose_name=_("new check"),
    )

    class Meta:
        verbose_name = _("address change request")
        verbose_name_plural = _("address change requests")
        ordering = ["-created_at", "-id"]
        constraints = [
            # rule B3: a newer request supersedes an older one, so one waits at a time.
            models.UniqueConstraint(
                fields=["closure"],
                condition=models.Q(status="awaiting"),
                name="refunds_one_awaiting_address_change_per_closure",
            ),
            models.UniqueConstraint(
                fields=["token_hash"],
                condition=~models.Q(token_hash=""),
                name="refunds_address_change_token_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(refund__isnull=False, held_funds__isnull=True)
                | models.Q(refund__isnull=True, held_funds__isnull=False),
                name="refunds_address_change_for_a_check_or_held_funds",
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=["confirmed", "approved"])
                | models.Q(new_refund__isnull=False),
                name="refunds_address_change_decided_has_check",
            ),
        ]

    def __str__(self) -> str:
        return f"Address change {self.closure.reference} #{self.pk}"

    @property
    def new_check_made(self) -> bool:
        """Confirmed by the holder or approved by staff: the new check exists (rule B3)."""
        return self.status in (self.Status.CONFIRMED, self.Status.APPROVED)

    def money(self) -> "Refund | HeldFunds":
        """The returned check or the held funds the new address is for: always exactly one
        of the two (the check constraint above)."""
        item = self.refund or self.held_funds
        if item is None:
            raise ValueError(f"address change {self.pk} is for neither a check nor held funds")
        return item

    def address(self) -> dict[str, str]:
        return {
            name: getattr(self, name) for name in ("line1", "line2", "city", "state", "zip_code")
        }

    def address_lines(self) -> list[str]:
        city_line = f"{self.city} {self.state} {self.zip_code}"
        return [line for line in (self.line1, self.line2, city_line) if line]


# --- Bank files (rule B8): Positive Pay issue files out, BAI2 paid items in. Staff
# only, so their labels are not marked for translation. ---


class PositivePayFile(models.Model):
    """One Positive Pay issue file made for the bank (rule B8): who, when, for which
    account and layout, which checks, and the SHA-256 of the file as downloaded. The
    file itself is kept, so anyone allowed can download the very same bytes again."""

    layout = models.CharField("layout", max_length=32)
    bank_account_number = models.CharField("bank account", max_length=17)
    bank_routing_number = models.CharField("routing number", max_length=9)
    date_from = models.DateField("checks from", null=True, blank=True)
    date_to = models.DateField("checks to", null=True, blank=True)
    resend = models.BooleanField("checks sent before sent again", default=False)
    filename = models.CharField("file name", max_length=80)
    content = models.TextField("file")
    sha256 = models.CharField("SHA-256", max_length=64)
    issue_count = models.PositiveIntegerField("checks issued")
    void_count = models.PositiveIntegerField("checks voided")
    total_cents = CentsField("total of checks issued")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="by"
    )
    created_at = models.DateTimeField("made", db_index=True)

    class Meta:
        verbose_name = "Positive Pay issue file"
        verbose_name_plural = "Positive Pay issue files"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.filename


class PositivePayItem(models.Model):
    """A check in an issue file, as it was sent: an issue, or a void of a check sent
    before. A check goes to the bank once as an issue and once as a void, unless a
    clerk asks for it again (`resent`)."""

    class Kind(models.TextChoices):
        ISSUE = "issue", "Issued"
        VOID = "void", "Void"

    file = models.ForeignKey(PositivePayFile, on_delete=models.PROTECT, related_name="items")
    refund = models.ForeignKey(Refund, on_delete=models.PROTECT, related_name="positive_pay_items")
    kind = models.CharField("issue or void", max_length=5, choices=Kind.choices)
    resent = models.BooleanField("sent again", default=False)
    check_number = models.CharField("check number", max_length=20)
    amount_cents = CentsField("amount")
    issued_on = models.DateField("issued")
    payee_name = models.CharField("payee", max_length=150)

    class Meta:
        verbose_name = "check in an issue file"
        verbose_name_plural = "checks in issue files"
        ordering = ["file", "id"]
        constraints = [
            # rule B8: never sent twice unless asked
            models.UniqueConstraint(
                fields=["refund", "kind"],
                condition=models.Q(resent=False),
                name="refunds_check_sent_to_the_bank_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} check {self.check_number}"


class BankFile(models.Model):
    """A paid-items file from the bank (BAI2) that was imported (rule B8): its checks
    paid were matched to refund checks and cleared, or listed as exceptions. The
    SHA-256 is unique: the same file imported again changes nothing."""

    filename = models.CharField("file name", max_length=200)
    sha256 = models.CharField("SHA-256", max_length=64, unique=True)
    content = models.TextField("file")
    as_of_date = models.DateField("as of")
    paid_count = models.PositiveIntegerField("checks paid in the file")
    paid_cents = CentsField("total paid in the file")
    cleared_count = models.PositiveIntegerField("checks cleared")
    exception_count = models.PositiveIntegerField("exceptions")
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="by",
    )
    imported_by_label = models.CharField("by", max_length=254)
    imported_at = models.DateTimeField("imported", db_index=True)

    class Meta:
        verbose_name = "bank paid-items file"
        verbose_name_plural = "bank paid-items files"
        ordering = ["-imported_at", "-id"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.as_of_date})"


class BankFileException(models.Model):
    """A check paid by the bank that did not match exactly and was not applied: a
    person decides what to do and resolves it with a note (rule B8: never guessed)."""

    class Reason(models.TextChoices):
        UNKNOWN_CHECK = "unknown_check", "Unknown check number"
        AMOUNT_DIFFERS = "amount_differs", "Amount differs"
        VOID_OR_STALE = "void_or_stale", "Check void, stale or replaced"
        PAID_TWICE = "paid_twice", "Paid twice"
        NOT_MAILED = "not_mailed", "Check not marked mailed"

    bank_file = models.ForeignKey(BankFile, on_delete=models.PROTECT, related_name="exceptions")
    line = models.PositiveIntegerField("line in the file")
    check_number = models.CharField("check number", max_length=30)
    amount_cents = CentsField("amount paid")
    paid_on = models.DateField("paid")
    refund = models.ForeignKey(
        Refund,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bank_exceptions",
        verbose_name="refund check",
    )
    reason = models.CharField("reason", max_length=16, choices=Reason.choices)
    detail = models.TextField("detail")
    resolved_at = models.DateTimeField("resolved", null=True, blank=True, db_index=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="resolved by",
    )
    resolution_note = models.TextField("decision", blank=True)

    class Meta:
        verbose_name = "bank file exception"
        verbose_name_plural = "bank file exceptions"
        ordering = ["-bank_file__imported_at", "line"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(resolved_at__isnull=True) | ~models.Q(resolution_note=""),
                name="refunds_bank_exception_resolved_with_a_note",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()}: check {self.check_number} (line {self.line})"


class LegalHold(models.Model):
    """Rule B7: Support keeps an account's personal data past its erasure days (a court
    order, a dispute). While a hold is active neither erasure stage touches the account.
    A hold is never deleted: lifting it stamps `lifted_at`."""

    account = models.ForeignKey(
        CustomerAccount, on_delete=models.PROTECT, related_name="legal_holds"
    )
    reason = models.TextField(_("reason"))
    until = models.DateField(
        _("until"), null=True, blank=True, help_text=_("Empty: until someone lifts it.")
    )
    placed_at = models.DateTimeField(_("placed"))
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    lifted_at = models.DateTimeField(_("lifted"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("lifted by"),
    )
    lift_reason = models.TextField(_("why lifted"), blank=True)

    class Meta:
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")
        ordering = ["-placed_at", "-id"]
        permissions = [("place_legal_hold", "Can place and lift legal holds")]

    def __str__(self) -> str:
        return f"Legal hold on {self.account.number}"

    def is_active(self, today: dt.date) -> bool:
        return self.lifted_at is None and (self.until is None or self.until >= today)


class ErasureRecord(models.Model):
    """Rule B7: proof that a stage of erasure ran on an account: which categories of
    personal data, when, by which rule, counted from when the money was final. It holds
    no personal data. One per account and stage."""

    class Stage(models.TextChoices):
        IDENTITY = "identity", _("Sign-in identity")
        RECORDS = "records", _("Names and addresses on records")

    account = models.ForeignKey(
        CustomerAccount, on_delete=models.PROTECT, related_name="erasure_records"
    )
    stage = models.CharField(_("stage"), max_length=8, choices=Stage.choices)
    categories = models.JSONField(_("what was erased"))
    money_final_at = models.DateTimeField(_("money final"))
    erased_at = models.DateTimeField(_("erased"), db_index=True)
    rule = models.CharField(_("rule"), max_length=80)

    class Meta:
        verbose_name = _("erasure record")
        verbose_name_plural = _("erasure records")
        ordering = ["-erased_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "stage"], name="refunds_one_erasure_per_stage"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_stage_display()} erased, account {self.account.number}"
