"""Phone numbers through django-phonenumber-field: stored as E.164 (`+15125550100`).

Numbers were stored as 10 digits (`5125550100`). They become `+1` and the digits, in
one UPDATE per column; anything else typed with punctuation or a leading 1 is converted
row by row with plain string logic (no live code). A value that is not 10 digits stays
as it was, and shows as stored. Reversing turns `+1` and 10 digits back into 10 digits.
"""

import re

import phonenumber_field.modelfields
from django.db import migrations
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr

# (model, field) of every phone number column.
COLUMNS = [
    ("PhoneNumber", "number"),
    ("LedgerEntry", "number_called"),
    ("DirectBillCharge", "number_called"),
]


def _e164(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return f"+1{digits}" if len(digits) == 10 else value


def to_e164(apps, schema_editor):
    for model_name, field in COLUMNS:
        model = apps.get_model("accounts", model_name)
        model.objects.filter(**{f"{field}__regex": r"^[0-9]{10}$"}).update(
            **{field: Concat(Value("+1"), F(field))}
        )
        others = (
            model.objects.exclude(**{field: ""})
            .exclude(**{f"{field}__startswith": "+"})
            .values_list("pk", field)
        )
        for pk, value in others.iterator():
            if _e164(value) != value:
                model.objects.filter(pk=pk).update(**{field: _e164(value)})


def to_ten_digits(apps, schema_editor):
    for model_name, field in COLUMNS:
        model = apps.get_model("accounts", model_name)
        model.objects.filter(**{f"{field}__regex": r"^\+1[0-9]{10}$"}).update(
            **{field: Substr(F(field), 3)}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_language_not_chosen_yet"),
    ]

    operations = [
        # The data first, while the columns are plain text in the historical models.
        migrations.RunPython(to_e164, to_ten_digits),
        migrations.AlterField(
            model_name="directbillcharge",
            name="number_called",
            field=phonenumber_field.modelfields.PhoneNumberField(
                blank=True, max_length=20, region="US", verbose_name="number called"
            ),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="number_called",
            field=phonenumber_field.modelfields.PhoneNumberField(
                blank=True, max_length=20, region="US", verbose_name="number called"
            ),
        ),
        migrations.AlterField(
            model_name="phonenumber",
            name="number",
            field=phonenumber_field.modelfields.PhoneNumberField(
                db_index=True, max_length=20, region="US", verbose_name="phone number"
            ),
        ),
    ]
