from django.core.exceptions import ValidationError
from django.db import models


class CentsField(models.BigIntegerField):
    """An amount of money in integer cents. A float is refused outright, never rounded."""

    def get_prep_value(self, value):
        if isinstance(value, float):
            raise TypeError(f"Money is never a float: got {value!r} for {self.name}.")
        return super().get_prep_value(value)

    def to_python(self, value):
        if isinstance(value, float):
            raise ValidationError(f"Money is never a float: got {value!r}.")
        return super().to_python(value)
