"""The back office's searches and lists at millions of rows, on PostgreSQL only (SQLite
has neither pg_trgm nor expression operator classes, and needs none at its sizes).

The expressions are those Django writes for the searches (refunds/admin/search.py):
`icontains` is `UPPER(col::text) LIKE UPPER('%x%')`, served by a trigram GIN index on
`UPPER(col)`; `istartswith` on an email is `UPPER(email::text) LIKE UPPER('x%')`, served
by a pattern btree on `UPPER(email)`. Exact and prefix lookups on references, account
and check numbers use the unique and `_like` indexes Django already made."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEXES = {
    "accounts_user_first_name_trgm": (
        "accounts_user USING gin (UPPER(first_name) gin_trgm_ops)"
    ),
    "accounts_user_last_name_trgm": "accounts_user USING gin (UPPER(last_name) gin_trgm_ops)",
    "accounts_user_email_upper_like": "accounts_user (UPPER(email) text_pattern_ops)",
    "refunds_refund_payee_name_trgm": "refunds_refund USING gin (UPPER(payee_name) gin_trgm_ops)",
    "accounts_phonenumber_number_trgm": "accounts_phonenumber USING gin (number gin_trgm_ops)",
    # The statements list, newest first with id as tie-breaker.
    "accounts_dbstatement_date_id": "accounts_directbillstatement (statement_date, id)",
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, target in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("refunds", "0001_initial"),
    ]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
