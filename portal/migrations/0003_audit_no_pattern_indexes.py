"""Issue 13: the audit table keeps only the indexes something reads. On PostgreSQL Django
adds a second, `varchar_pattern_ops` index beside the index of a text column that is
unique or indexed, for `LIKE 'prefix%'`; nothing looks up an event's hash or action by
prefix, and every audited write paid for both (about 8% of the database's time in a
sweep). The hash stays unique and the action indexed. The names are those Django gave;
a later change to either field drops them with `IF EXISTS`."""

from django.db import migrations

PATTERN_INDEXES = {
    "portal_auditevent_action_c0d3e523_like": "action",
    "portal_auditevent_hash_427742ce_like": "hash",
}


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in PATTERN_INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}", params=None)


def restore(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, column in PATTERN_INDEXES.items():
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} "
                f"ON portal_auditevent ({column} varchar_pattern_ops)",
                params=None,
            )


class Migration(migrations.Migration):
    dependencies = [("portal", "0002_audit_seals")]

    operations = [migrations.RunPython(drop, restore, elidable=False)]
