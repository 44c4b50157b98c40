from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from localflavor.us.forms import USStateSelect
from localflavor.us.us_states import STATE_CHOICES
from phonenumber_field.formfields import PhoneNumberField
from phonenumber_field.widgets import RegionalPhoneNumberWidget

from .addresses import FIELDS, address_suggest, address_validate
from .models import User


class ProfileForm(forms.ModelForm):
    language = forms.ChoiceField(
        label=_("Language"),
        choices=lambda: settings.LANGUAGES,
        help_text=_("The language of pages and emails for you."),
    )

    class Meta:
        model = User
        fields = ["first_name", "last_name", "language"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.language:
            self.initial["language"] = get_language()
        self.helper = FormHelper()
        self.helper.add_input(Submit("save", _("Save")))


class AddressForm(forms.Form):
    """A US mailing address, checked and cleaned by `accounts.addresses.address_validate`
    (USPS style: capitals, single spaces, a state code). Used wherever a holder gives an
    address (My Settings, D2, the claim page) and by the back office."""

    line1 = forms.CharField(
        label=_("Street address"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "address-line1"}),
    )
    line2 = forms.CharField(
        label=_("Apartment, suite or unit"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-line2"}),
    )
    city = forms.CharField(
        label=_("City"),
        max_length=60,
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
    )
    state = forms.CharField(label=_("State"), widget=USStateSelect())
    zip_code = forms.CharField(
        label=_("ZIP code"),
        max_length=10,
        help_text=_("5 digits, or ZIP+4 like 78702-1234."),
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "inputmode": "numeric"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["state"].widget.choices = [("", _("Choose a state")), *STATE_CHOICES]
        self.helper = FormHelper()
        self.helper.add_input(Submit("save", _("Save address")))

    def clean(self) -> dict:
        super().clean()
        cleaned = self.cleaned_data
        try:
            self.us_address = address_validate(**{name: cleaned.get(name, "") for name in FIELDS})
        except ValidationError as invalid:
            for name, errors in invalid.error_dict.items():
                if name not in self.errors:  # a field its own check refused is told once
                    self.add_error(name, errors)
        else:
            cleaned.update(self.us_address.as_dict())
        return cleaned

    def address(self) -> dict:
        """The cleaned address, with the keys of `MailingAddress.as_dict()`."""
        return self.us_address.as_dict()

    def lines(self) -> list[str]:
        return self.us_address.lines()


SUGGESTED_PREFIX = "suggested"


def address_suggestion(typed: AddressForm) -> AddressForm | None:
    """The verifier's suggestion for a valid typed address, as a valid bound form (with
    the `suggested` prefix); None when there is nothing different, or nothing valid."""
    suggested = address_suggest(typed.us_address)
    if suggested is None:
        return None
    form = AddressForm(
        {f"{SUGGESTED_PREFIX}-{k}": v for k, v in suggested.as_dict().items()},
        prefix=SUGGESTED_PREFIX,
    )
    return form if form.is_valid() else None


def address_choice(data) -> AddressForm | None:
    """The address the holder picked on the "We suggest / What you typed" step: the form
    carrying it, bound and ready to validate; None when the POST is not that step."""
    choice = data.get("choice")
    if choice == "suggested":
        return AddressForm(data, prefix=SUGGESTED_PREFIX)
    if choice == "typed":
        return AddressForm(data)
    return None


NOT_A_US_PHONE_NUMBER = _(
    "This is not a US phone number that can be called. Enter it with the area code, "
    "like (512) 555-0100."
)


class PhoneNumberForm(forms.Form):
    """A US number the account pays calls to: typed and shown in national format,
    stored as E.164 (django-phonenumber-field)."""

    number = PhoneNumberField(
        label=_("Phone number"),
        region="US",
        max_length=20,
        help_text=_("A US number with area code, like (512) 555-0100."),
        widget=RegionalPhoneNumberWidget(
            region="US", attrs={"autocomplete": "tel-national", "inputmode": "tel"}
        ),
        error_messages={"invalid": NOT_A_US_PHONE_NUMBER},
    )
    label = forms.CharField(label=_("Label (optional)"), max_length=60, required=False)

    def __init__(self, *args, account, action, **kwargs):
        super().__init__(*args, **kwargs)
        self.account = account
        self.helper = FormHelper()
        self.helper.form_action = action
        self.helper.add_input(Submit("add", _("Add number")))

    def clean_number(self):
        number = self.cleaned_data["number"]
        if number.country_code != 1:  # valid, but not a North American number
            raise forms.ValidationError(NOT_A_US_PHONE_NUMBER)
        if self.account.phone_numbers.filter(number=number).exists():
            raise forms.ValidationError(_("This number is already on your account."))
        return number
