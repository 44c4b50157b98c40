"""Forms of the back office's intermediate pages: what staff type before a move."""

from decimal import Decimal

from django import forms
from django.utils import timezone
from localflavor.us.forms import USStateField, USStateSelect

from accounts.forms import AddressForm as HolderAddressForm
from portal.admin_filters import DATE_BOUNDS, DATE_BOUNDS_MESSAGE
from portal.business_calendar import business_date, business_zone
from portal.money import decimal_to_cents

from ..exporters import EXPORTERS
from ..models import ExportRun


def _today():
    return business_date(timezone.now())


class DateInput(forms.DateInput):
    input_type = "date"


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Reason", max_length=500, widget=forms.Textarea(attrs={"rows": 3, "cols": 60})
    )


class IssueForm(forms.Form):
    check_number = forms.CharField(label="Check number", max_length=20)
    issued_on = forms.DateField(label="Issued on", initial=_today, widget=DateInput)


class IssueManyForm(forms.Form):
    """One check number per selected refund check, one issue date for the batch."""

    issued_on = forms.DateField(label="Issued on", initial=_today, widget=DateInput)

    def __init__(self, *args, refunds, **kwargs):
        super().__init__(*args, **kwargs)
        for refund in refunds:
            self.fields[f"check_number_{refund.pk}"] = forms.CharField(
                label=f"Check number for {refund.closure.reference} ({refund.payee_name})",
                max_length=20,
            )

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        numbers = [v.strip() for k, v in cleaned.items() if k.startswith("check_number_")]
        if len(numbers) != len(set(numbers)):
            raise forms.ValidationError("Each check needs its own number.")
        return cleaned

    def data_for(self, refund) -> dict:
        return {
            "check_number": self.cleaned_data[f"check_number_{refund.pk}"],
            "issued_on": self.cleaned_data["issued_on"],
        }


class MailedForm(forms.Form):
    mailed_on = forms.DateField(label="Mailed on", initial=_today, widget=DateInput)


class CashedForm(forms.Form):
    cleared_on = forms.DateField(label="Cleared on", initial=_today, widget=DateInput)


class ProcessorReferenceForm(forms.Form):
    processor_reference = forms.CharField(label="Processor reference", max_length=64)


class EscheatForm(forms.Form):
    report_reference = forms.CharField(label="Unclaimed property report", max_length=64)


class AddressForm(HolderAddressForm):
    """The corrected address a check is reissued to (rule B3), checked as in D2 by the
    same validator; staff's labels, and why."""

    reason = forms.CharField(
        label="Why (e.g. the holder called with a new address)", max_length=500, required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["line1"].label = "Address line 1"
        self.fields["line2"].label = "Address line 2"


class PaymentForm(forms.Form):
    amount = forms.DecimalField(
        label="Amount paid ($)", max_digits=12, decimal_places=2, min_value=Decimal("0.01")
    )
    paid_at = forms.DateTimeField(
        label="Paid at (business time)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def full_clean(self):
        # The time typed is business time (SPEC §0), not UTC.
        with timezone.override(business_zone()):
            super().full_clean()

    def clean_amount(self):
        return decimal_to_cents(self.cleaned_data["amount"])


class SupportNoteForm(forms.Form):
    text = forms.CharField(label="Note", widget=forms.Textarea(attrs={"rows": 5, "cols": 60}))


class ExportForm(forms.Form):
    export = forms.ChoiceField(
        label="Export", choices=[(key, exporter.label) for key, exporter in EXPORTERS.items()]
    )
    file_format = forms.ChoiceField(
        label="Format",
        choices=[(ExportRun.Format.CSV, "CSV"), (ExportRun.Format.XLSX, "XLSX (Excel)")],
        initial=ExportRun.Format.CSV,
        widget=forms.RadioSelect,
    )
    date_from = forms.DateField(label="From", widget=DateInput)
    date_to = forms.DateField(label="To (inclusive)", widget=DateInput, initial=_today)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("date_from", "date_to"):
            self.fields[name].widget.attrs.update(
                min=DATE_BOUNDS[0].isoformat(), max=DATE_BOUNDS[1].isoformat()
            )

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        for date in (date_from, date_to):
            if date and not DATE_BOUNDS[0] <= date <= DATE_BOUNDS[1]:
                raise forms.ValidationError(DATE_BOUNDS_MESSAGE)
        if date_from and date_to and date_from > date_to:
            raise forms.ValidationError("The start date is after the end date.")
        return cleaned


class OwnerNoticeForm(forms.Form):
    mailed_on = forms.DateField(label="Owner notice mailed on", initial=_today, widget=DateInput)


class DispositionForm(forms.Form):
    """The final disposition of held funds (rule N4): remitted to a state, on a report."""

    remitted_on = forms.DateField(label="Remitted on", initial=_today, widget=DateInput)
    state = USStateField(label="Remitted to (state)", widget=USStateSelect)
    report_reference = forms.CharField(label="Unclaimed property report", max_length=64)


class LegalHoldForm(forms.Form):
    """Rule B7: a hold pauses both erasure stages of an account."""

    reason = forms.CharField(label="Reason", widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))
    until = forms.DateField(
        label="Until (empty: until lifted)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class LiftHoldForm(forms.Form):
    reason = forms.CharField(
        label="Why lift it", widget=forms.Textarea(attrs={"rows": 3, "cols": 60})
    )
