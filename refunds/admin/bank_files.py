"""Bank files in the back office (rule B8): Positive Pay issue files out, BAI2 paid-items
files in and their exceptions, and the NAUPA unclaimed property report.

Refund operations make issue files, import paid-items files and resolve exceptions
(`refunds.move_refund`); auditors see and download every file, and change nothing.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django_object_actions import DjangoObjectActions, action
from localflavor.us.forms import USStateField, USStateSelect

from portal.audit import AuditAction
from portal.display import business_datetime
from portal.models import AuditEvent
from portal.money import format_cents

from ..bank_files.positive_pay import POSITIVE_PAY_LAYOUTS
from ..exporters.base import ExportRefused
from ..exporters.naupa import naupa_export_response
from ..models import BankFile, BankFileException, PositivePayFile, PositivePayItem
from ..services.bank_files import (
    BankFileRefused,
    bank_file_download,
    bank_file_exception_resolve,
    bank_file_import,
    positive_pay_file_create,
    positive_pay_file_download,
)
from .base import FORM_PAGE, ReadOnlyAdmin, ReadOnlyTabularInline, action_page, link, posted, table
from .forms import DateInput

# A paid-items file of a day is a few hundred kilobytes; far more is not one.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def can_apply(request) -> bool:
    return request.user.has_perm("refunds.move_refund")


def attachment(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/plain; charset=us-ascii")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class IssueFileForm(forms.Form):
    date_from = forms.DateField(
        label="Checks from",
        required=False,
        widget=DateInput,
        help_text="Leave both dates empty for every check issued or voided since the last file.",
    )
    date_to = forms.DateField(label="Checks to", required=False, widget=DateInput)
    resend = forms.BooleanField(label="Send again checks already sent to the bank", required=False)


class BankFileForm(forms.Form):
    paid_items = forms.FileField(label="Paid-items file from the bank (BAI2)")

    def clean_paid_items(self):
        upload = self.cleaned_data["paid_items"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("This file is far too large to be a paid-items file.")
        return upload


class ResolveForm(forms.Form):
    note = forms.CharField(
        label="What was decided",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )


class NaupaForm(forms.Form):
    state = USStateField(label="State", widget=USStateSelect)
    date_from = forms.DateField(label="Remitted from", widget=DateInput)
    date_to = forms.DateField(label="Remitted to", widget=DateInput)


class PositivePayItemInline(ReadOnlyTabularInline):
    model = PositivePayItem
    readonly_fields = (
        "kind",
        "check_number",
        "amount",
        "issued_on",
        "payee_name",
        "resent",
        "refund_check",
    )
    fields = readonly_fields

    @admin.display(description="amount")
    def amount(self, item):
        return format_cents(item.amount_cents)

    @admin.display(description="refund check")
    def refund_check(self, item):
        return link("admin:refunds_refund_change", item.refund_id)


@admin.register(PositivePayFile)
class PositivePayFileAdmin(DjangoObjectActions, ReadOnlyAdmin):
    list_display = [
        "filename",
        "created_at",
        "created_by",
        "layout",
        "issue_count",
        "void_count",
        "total",
        "sha256",
    ]
    list_select_related = ["created_by"]
    list_filter = ["layout"]
    fields = [
        "filename",
        "created_at",
        "created_by",
        "layout",
        "bank_account_number",
        "bank_routing_number",
        "date_from",
        "date_to",
        "resend",
        "issue_count",
        "void_count",
        "total",
        "sha256",
    ]
    readonly_fields = ["total"]
    inlines = [PositivePayItemInline]
    changelist_actions = ["new_issue_file"]
    change_actions = ["download"]

    @admin.display(description="total of checks issued", ordering="total_cents")
    def total(self, pay_file):
        return format_cents(pay_file.total_cents)

    def get_changelist_actions(self, request):
        return self.changelist_actions if can_apply(request) else []

    def get_urls(self):
        return [
            path(
                "new/",
                self.admin_site.admin_view(self.new_issue_file_view),
                name="refunds_positivepayfile_new",
            ),
            *super().get_urls(),
        ]

    @action(label="New issue file", methods=("GET",), button_type="a")
    def new_issue_file(self, request, queryset):
        return redirect("admin:refunds_positivepayfile_new")

    @action(label="Download", methods=("GET",), button_type="a")
    def download(self, request, pay_file):
        try:
            content = positive_pay_file_download(pay_file=pay_file, actor=request.user)
        except BankFileRefused as refused:
            messages.error(request, str(refused))
            return redirect("admin:refunds_positivepayfile_change", pay_file.pk)
        return attachment(content, pay_file.filename)

    def new_issue_file_view(self, request):
        """Make the issue file and download it at once (rule B8)."""
        if not can_apply(request):
            raise PermissionDenied
        form = IssueFileForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                pay_file = positive_pay_file_create(actor=request.user, **form.cleaned_data)
            except BankFileRefused as refused:
                form.add_error(None, str(refused))
            else:
                content = positive_pay_file_download(pay_file=pay_file, actor=request.user)
                return attachment(content, pay_file.filename)
        layout = POSITIVE_PAY_LAYOUTS.get(settings.POSITIVE_PAY_LAYOUT)
        return action_page(
            self,
            request,
            title="New Positive Pay issue file",
            form=form,
            objects=[
                f"Account ending {settings.POSITIVE_PAY_ACCOUNT_NUMBER[-4:]}, layout "
                f"{layout.label if layout else settings.POSITIVE_PAY_LAYOUT}"
            ],
            cancel_url=reverse("admin:refunds_positivepayfile_changelist"),
            submit="Make and download the issue file",
        )


class BankFileExceptionInline(ReadOnlyTabularInline):
    model = BankFileException
    readonly_fields = (
        "line",
        "check_number",
        "amount",
        "reason",
        "detail",
        "resolved_at",
        "open_link",
    )
    fields = readonly_fields

    @admin.display(description="amount paid")
    def amount(self, exception):
        return format_cents(exception.amount_cents)

    @admin.display(description="decide")
    def open_link(self, exception):
        return link("admin:refunds_bankfileexception_change", exception.pk, "Open")


@admin.register(BankFile)
class BankFileAdmin(DjangoObjectActions, ReadOnlyAdmin):
    list_display = [
        "filename",
        "as_of_date",
        "imported_at",
        "imported_by_label",
        "paid_count",
        "cleared_count",
        "exception_count",
    ]
    fields = [
        "filename",
        "as_of_date",
        "imported_at",
        "imported_by_label",
        "sha256",
        "paid_count",
        "paid",
        "cleared_count",
        "cleared_checks",
        "exception_count",
    ]
    readonly_fields = ["paid", "cleared_checks"]
    inlines = [BankFileExceptionInline]
    changelist_actions = ["upload"]
    change_actions = ["download"]

    @admin.display(description="total paid in the file")
    def paid(self, bank_file):
        return format_cents(bank_file.paid_cents)

    @admin.display(description="checks cleared (marked cashed)")
    def cleared_checks(self, bank_file):
        event = AuditEvent.objects.filter(
            object_type="refunds.bankfile",
            object_id=str(bank_file.pk),
            action=AuditAction.BANK_FILE_IMPORTED,
        ).first()
        numbers = event.after.get("cleared", []) if event else []
        return table(["Check number"], [(number,) for number in numbers])

    def get_changelist_actions(self, request):
        return self.changelist_actions if can_apply(request) else []

    def get_urls(self):
        return [
            path(
                "upload/",
                self.admin_site.admin_view(self.upload_view),
                name="refunds_bankfile_upload",
            ),
            *super().get_urls(),
        ]

    @action(label="Import a paid-items file", methods=("GET",), button_type="a")
    def upload(self, request, queryset):
        return redirect("admin:refunds_bankfile_upload")

    @action(label="Download", methods=("GET",), button_type="a")
    def download(self, request, bank_file):
        try:
            content = bank_file_download(bank_file=bank_file, actor=request.user)
        except BankFileRefused as refused:
            messages.error(request, str(refused))
            return redirect("admin:refunds_bankfile_change", bank_file.pk)
        return attachment(content, bank_file.filename)

    def upload_view(self, request):
        """Import the bank's BAI2 file: clear what matches, list the rest (rule B8)."""
        if not can_apply(request):
            raise PermissionDenied
        posted = request.method == "POST"
        form = BankFileForm(request.POST if posted else None, request.FILES if posted else None)
        if form.is_valid():
            upload = form.cleaned_data["paid_items"]
            try:
                bank_file, created = bank_file_import(
                    content=upload.read(), filename=upload.name, actor=request.user
                )
            except BankFileRefused as refused:
                form.add_error(None, f"The file was refused and nothing was applied. {refused}")
            else:
                if created:
                    messages.success(
                        request,
                        f"{bank_file.filename}: {bank_file.cleared_count} checks cleared, "
                        f"{bank_file.exception_count} exceptions to decide.",
                    )
                else:
                    messages.warning(
                        request,
                        f"This file was already imported on "
                        f"{business_datetime(bank_file.imported_at)}; nothing was changed.",
                    )
                return redirect("admin:refunds_bankfile_change", bank_file.pk)
        return action_page(
            self,
            request,
            title="Import a paid-items file",
            form=form,
            objects=[],
            cancel_url=reverse("admin:refunds_bankfile_changelist"),
            submit="Import",
        )


class ResolvedFilter(admin.SimpleListFilter):
    title = "decided"
    parameter_name = "resolved"

    def lookups(self, request, model_admin):
        return [("no", "To decide"), ("yes", "Decided")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(resolved_at__isnull=self.value() == "no")
        return queryset


@admin.register(BankFileException)
class BankFileExceptionAdmin(DjangoObjectActions, ReadOnlyAdmin):
    list_display = [
        "check_number",
        "amount",
        "paid_on",
        "reason",
        "detail",
        "bank_file",
        "line",
        "resolved_at",
    ]
    list_select_related = ["bank_file"]
    list_filter = [ResolvedFilter, "reason"]
    search_fields = ["=check_number"]
    fields = [
        "bank_file_link",
        "line",
        "check_number",
        "amount",
        "paid_on",
        "refund_link",
        "reason",
        "detail",
        "resolved_at",
        "resolved_by",
        "resolution_note",
    ]
    readonly_fields = ["bank_file_link", "amount", "refund_link"]
    change_actions = ["resolve"]

    @admin.display(description="amount paid", ordering="amount_cents")
    def amount(self, exception):
        return format_cents(exception.amount_cents)

    @admin.display(description="paid-items file")
    def bank_file_link(self, exception):
        return link("admin:refunds_bankfile_change", exception.bank_file_id, exception.bank_file)

    @admin.display(description="refund check")
    def refund_link(self, exception):
        return exception.refund_id and link("admin:refunds_refund_change", exception.refund_id)

    def get_change_actions(self, request, object_id, form_url):
        exception = self.get_object(request, object_id)
        if not can_apply(request) or exception is None or exception.resolved_at:
            return []
        return self.change_actions

    @action(label="Resolve", **FORM_PAGE)
    def resolve(self, request, exception):
        """A person decides; the decision is recorded with its note (rule B8)."""
        if not can_apply(request):
            raise PermissionDenied
        form = ResolveForm(posted(request))
        if form.is_bound and form.is_valid():
            try:
                bank_file_exception_resolve(
                    exception=exception, actor=request.user, note=form.cleaned_data["note"]
                )
            except BankFileRefused as refused:
                form.add_error(None, str(refused))
            else:
                messages.success(request, f"Resolved: {exception}.")
                return redirect("admin:refunds_bankfileexception_changelist")
        return action_page(
            self,
            request,
            title="Resolve the exception",
            form=form,
            objects=[f"{exception}: {exception.detail}"],
            cancel_url=reverse("admin:refunds_bankfileexception_change", args=[exception.pk]),
            submit="Resolve",
        )


def naupa_view(model_admin, request):
    """The unclaimed property report of one state, NAUPA format (rules B6, B8)."""
    user = request.user
    if not (user.has_perm("refunds.export_records") or user.has_perm("refunds.move_refund")):
        raise PermissionDenied
    form = NaupaForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            return naupa_export_response(actor=user, **form.cleaned_data)
        except ExportRefused as refused:
            form.add_error(None, str(refused))
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Unclaimed property report (NAUPA format)",
        "opts": model_admin.model._meta,
        "form": form,
        "objects": [],
        "hidden": [],
        "cancel_url": reverse("admin:index"),
        "submit_label": "Download the NAUPA file",
    }
    return TemplateResponse(request, "admin/backoffice/action_form.html", context)
