from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.conf import settings
from django.core.validators import RegexValidator
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from localflavor.us.forms import USStateField, USStateSelect, USZipCodeField
from localflavor.us.us_states import STATE_CHOICES

from .address_verification import FIELDS, NOT_A_STREET_LINE, get_address_verifier, is_street_line
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


# What a mailing address is written with: letters (any language), digits, spaces and the
# punctuation of addresses. Markup, template syntax, emoji and invisible characters
# cannot be printed on an envelope, so they are refused in plain words.
address_text = RegexValidator(
    r"^[\w\s#&'’,./()-]*\Z",
    _("Use only letters, numbers, spaces and . , # / - ' & ( )"),
)


def _plain_upper(value: str) -> str:
    return " ".join(value.split()).upper()


class AddressForm(forms.Form):
    """A US mailing address: required lines, a real state, ZIP or ZIP+4; cleaned to upper
    case with single spaces. Used wherever a holder gives an address (My Settings, D2)."""

    line1 = forms.CharField(
        label=_("Street address"),
        max_length=100,
        validators=[address_text],
        widget=forms.TextInput(attrs={"autocomplete": "address-line1"}),
    )
    line2 = forms.CharField(
        label=_("Apartment, suite or unit"),
        max_length=100,
        required=False,
        validators=[address_text],
        widget=forms.TextInput(attrs={"autocomplete": "address-line2"}),
    )
    city = forms.CharField(
        label=_("City"),
        max_length=60,
        validators=[address_text],
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
    )
    state = USStateField(label=_("State"), widget=USStateSelect())
    zip_code = USZipCodeField(
        label=_("ZIP code"),
        help_text=_("5 digits, or ZIP+4 like 78702-1234."),
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "inputmode": "numeric"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["state"].widget.choices = [("", _("Choose a state")), *STATE_CHOICES]
        self.helper = FormHelper()
        self.helper.add_input(Submit("save", _("Save address")))

    def clean_line1(self):
        line1 = _plain_upper(self.cleaned_data["line1"])
        if not is_street_line(line1):  # rule B3: a line that is not an address is refused
            raise forms.ValidationError(NOT_A_STREET_LINE)
        return line1

    def clean_line2(self):
        return _plain_upper(self.cleaned_data["line2"])

    def clean_city(self):
        return _plain_upper(self.cleaned_data["city"])

    def clean_state(self):
        state = self.cleaned_data["state"]
        if state not in dict(STATE_CHOICES):  # a COFA state the address model cannot hold
            raise forms.ValidationError(USStateField.default_error_messages["invalid"])
        return state

    def address(self) -> dict:
        """The cleaned address, with the keys of `MailingAddress.as_dict()`."""
        return {name: self.cleaned_data[name] for name in FIELDS}

    def lines(self) -> list[str]:
        data = self.cleaned_data
        return [
            line
            for line in (
                data["line1"],
                data["line2"],
                f"{data['city']} {data['state']} {data['zip_code']}",
            )
            if line
        ]


SUGGESTED_PREFIX = "suggested"


def address_suggestion(typed: AddressForm) -> AddressForm | None:
    """The verifier's suggestion for a valid typed address, as a valid bound form (with
    the `suggested` prefix); None when there is nothing different, or nothing valid."""
    suggested = get_address_verifier().suggest(typed.address())
    if not suggested:
        return None
    form = AddressForm(
        {f"{SUGGESTED_PREFIX}-{k}": v for k, v in suggested.items()}, prefix=SUGGESTED_PREFIX
    )
    if not form.is_valid() or form.address() == typed.address():
        return None
    return form


def address_choice(data) -> AddressForm | None:
    """The address the holder picked on the "We suggest / What you typed" step: the form
    carrying it, bound and ready to validate; None when the POST is not that step."""
    choice = data.get("choice")
    if choice == "suggested":
        return AddressForm(data, prefix=SUGGESTED_PREFIX)
    if choice == "typed":
        return AddressForm(data)
    return None


class PhoneNumberForm(forms.Form):
    number = forms.CharField(
        label=_("Phone number"),
        max_length=20,
        help_text=_("A US number with area code, like 512-555-0100."),
        widget=forms.TextInput(attrs={"autocomplete": "tel-national", "inputmode": "tel"}),
    )
    label = forms.CharField(label=_("Label (optional)"), max_length=60, required=False)

    def __init__(self, *args, account, action, **kwargs):
        super().__init__(*args, **kwargs)
        self.account = account
        self.helper = FormHelper()
        self.helper.form_action = action
        self.helper.add_input(Submit("add", _("Add number")))

    def clean_number(self):
        digits = "".join(c for c in self.cleaned_data["number"] if c.isdigit())
        if len(digits) == 11 and digits.startswith("1"):
            digits = digits[1:]
        if len(digits) != 10:
            raise forms.ValidationError(_("Enter a 10-digit US phone number, area code first."))
        if self.account.phone_numbers.filter(number=digits).exists():
            raise forms.ValidationError(_("This number is already on your account."))
        return digits
