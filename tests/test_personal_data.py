"""Rule B7: every text-like field of every model has an erasure rule or a reason it holds
no personal data, so a new personal field cannot ship without one."""

import pytest
from django.apps import apps
from django.db import models

from portal.personal_data import ERASURE_RULES, NOT_PERSONAL

pytestmark = pytest.mark.django_db  # the shared cache the suite clears is a table

TEXT_LIKE = (models.CharField, models.TextField, models.GenericIPAddressField, models.JSONField)


def test_every_text_like_field_is_erased_or_declared_not_personal():
    unruled = []
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy:  # its table is its concrete model's
            continue
        label = model._meta.label_lower
        rule = ERASURE_RULES.get(label)
        for field in model._meta.concrete_fields:
            if not isinstance(field, TEXT_LIKE) or field.primary_key:
                continue
            if rule and (field.name in rule.fields or rule.delete_rows_at):
                continue
            if field.name in NOT_PERSONAL.get(label, {}):
                continue
            unruled.append(f"{label}.{field.name}")
    assert unruled == [], "Add an erasure rule or a NOT_PERSONAL reason in portal/personal_data.py"


def test_the_rules_name_only_fields_that_exist():
    for label, rule in ERASURE_RULES.items():
        names = {field.name for field in apps.get_model(label)._meta.concrete_fields}
        assert set(rule.fields) <= names, label
    for label, fields in NOT_PERSONAL.items():
        names = {field.name for field in apps.get_model(label)._meta.concrete_fields}
        assert set(fields) <= names, label
