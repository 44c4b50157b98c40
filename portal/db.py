"""Database helpers every app's daily jobs share."""

from django.db import transaction


def for_each_locked(queryset, act) -> list:
    """Run `act(row)` on each row of `queryset`, each in its own transaction with the
    row locked and `queryset`'s conditions checked again under the lock. Rows another
    worker holds are skipped, not waited for, so two runs at once never act twice."""
    done = []
    for pk in list(queryset.values_list("pk", flat=True)):
        with transaction.atomic():
            row = queryset.select_for_update(skip_locked=True, of=("self",)).filter(pk=pk).first()
            if row is not None:
                done.append(act(row))
    return done
