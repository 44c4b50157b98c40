"""A trigram index on a holder's whole name (issue 13): the back office searches the first
and last names as one text (`refunds.admin.search.holder_name`), so every word of "Paul
Okquez" narrows one index scan; with one index per column, the scan found every Okquez
in the table and read each row to look for Paul. PostgreSQL only, as in 0001; the
expression is the SQL Django writes for `UPPER(holder_name)` in an `icontains`."""

from django.db import migrations

INDEX = "accounts_user_name_trgm"
EXPRESSION = (
    "UPPER((COALESCE(first_name, '') || "
    "COALESCE((COALESCE(' ', '') || COALESCE(last_name, '')), '')))"
)


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON accounts_user "
            f"USING gin (({EXPRESSION}) gin_trgm_ops)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("refunds", "0002_export_files"),
    ]

    operations = [migrations.RunPython(create_index, drop_index)]
