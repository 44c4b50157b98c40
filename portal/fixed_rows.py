"""Money rows PostgreSQL itself keeps as written, for migrations to install.

The services never change what a money row says once written (rule S3: a refund's
amount never changes; void and reissue instead), but the app's database login may UPDATE
and DELETE those tables. A row trigger holds that login to the same rules: it refuses
every DELETE, and every UPDATE that changes what must stay, with an IntegrityError
naming the table. The login owns no table, so it cannot drop or disable the trigger
(`create_db_roles`). The condition sits in the trigger's WHEN clause, so the rows the
sweeps and moves update legitimately pay for a few comparisons, not a function call.

SQLite has no roles and its test flush deletes rows, so only PostgreSQL gets them.
"""

from django.db import migrations


def changed(*columns: str) -> str:
    """SQL, true when an UPDATE changes any of `columns`."""
    return " OR ".join(f"OLD.{column} IS DISTINCT FROM NEW.{column}" for column in columns)


def set_once(*columns: str) -> str:
    """SQL, true when an UPDATE changes any of `columns` after it was set."""
    return " OR ".join(
        f"(OLD.{column} IS NOT NULL AND OLD.{column} IS DISTINCT FROM NEW.{column})"
        for column in columns
    )


def keep_rows(table: str, *, refuse_when: str, rule: str) -> migrations.RunPython:
    """A migration operation: on PostgreSQL, `table` refuses any DELETE, and any UPDATE of a
    row for which `refuse_when` (SQL over OLD and NEW) holds, quoting `rule` (plain
    words, no quotes or %) in the error."""
    function = f"{table}_kept"
    install = [
        f"CREATE FUNCTION {function}() RETURNS trigger AS $$\n"
        "BEGIN\n"
        f"    RAISE EXCEPTION '% on {table} refused: {rule}', TG_OP\n"
        "        USING ERRCODE = 'integrity_constraint_violation';\n"
        "END;\n"
        "$$ LANGUAGE plpgsql",
        f"CREATE TRIGGER {table}_fixed BEFORE UPDATE ON {table} FOR EACH ROW\n"
        f"    WHEN ({refuse_when}) EXECUTE FUNCTION {function}()",
        f"CREATE TRIGGER {table}_kept BEFORE DELETE ON {table} FOR EACH ROW\n"
        f"    EXECUTE FUNCTION {function}()",
    ]
    remove = [
        f"DROP TRIGGER IF EXISTS {table}_kept ON {table}",
        f"DROP TRIGGER IF EXISTS {table}_fixed ON {table}",
        f"DROP FUNCTION IF EXISTS {function}()",
    ]

    def run(statements):
        def apply(apps, schema_editor):
            if schema_editor.connection.vendor == "postgresql":
                for statement in statements:
                    schema_editor.execute(statement, params=None)

        return apply

    return migrations.RunPython(run(install), run(remove), elidable=False)
