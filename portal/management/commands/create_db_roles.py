import re

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from portal.models import AuditEvent, AuditSeal

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class Command(BaseCommand):
    help = (
        "PostgreSQL least privilege (SPEC §5): make an owner role own the database's tables "
        "(it runs migrations) and give the app role what the portal needs, with INSERT and "
        "SELECT only on the audit trail (events and seals): no UPDATE, DELETE, TRUNCATE, and "
        "no ALTER (it owns nothing). Creates missing roles (LOGIN, no password: set one with "
        "psql's \\password). "
        "Idempotent; run it after migrate. --print shows the SQL instead of running it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--owner", default="portal_owner", help="owns tables; migrates")
        parser.add_argument("--app", default="portal_app", help="the app's login")
        parser.add_argument(
            "--print", action="store_true", dest="print_sql", help="print the SQL, run nothing"
        )

    def handle(self, *args, owner, app, print_sql, **options):
        if connection.vendor != "postgresql":
            raise CommandError("Database roles are PostgreSQL's; this database has none.")
        for role in (owner, app):
            if not ROLE_NAME.match(role):
                raise CommandError(f"{role!r} is not a plain role name (a-z, 0-9, _).")
        if owner == app:
            raise CommandError("The owner and the app must be two roles.")
        statements = self._statements(owner, app)
        if print_sql:
            self.stdout.write(";\n".join(statements) + ";")
            return
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
        self.stdout.write(
            f"{owner} owns the tables; {app} may SELECT and INSERT on the audit trail only."
        )

    def _statements(self, owner, app):
        quote = connection.ops.quote_name
        owner_q, app_q = quote(owner), quote(app)
        audit_tables = [quote(model._meta.db_table) for model in (AuditEvent, AuditSeal)]
        with connection.cursor() as cursor:
            cursor.execute("SELECT rolname FROM pg_roles WHERE rolname IN (%s, %s)", [owner, app])
            existing = {row[0] for row in cursor.fetchall()}
            # Everything in the schema not yet the owner's: tables, sequences, views and
            # functions (the audit trigger's); none may stay the app's or a superuser's.
            cursor.execute(
                "SELECT 'TABLE', c.oid::regclass::text FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'S', 'v', 'm') "
                "AND pg_get_userbyid(c.relowner) <> %s AND NOT EXISTS (SELECT 1 FROM pg_depend d "
                "WHERE d.objid = c.oid AND d.classid = 'pg_class'::regclass "
                "AND d.deptype IN ('a', 'i')) "
                "UNION ALL SELECT 'FUNCTION', p.oid::regprocedure::text FROM pg_proc p "
                "JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE n.nspname = current_schema() AND pg_get_userbyid(p.proowner) <> %s "
                # An extension's functions (pg_trgm's) stay its own.
                "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid "
                "AND d.classid = 'pg_proc'::regclass AND d.deptype = 'e')",
                [owner, owner],
            )
            not_owned = cursor.fetchall()
            cursor.execute(
                "SELECT current_database(), current_schema(), pg_get_userbyid(datdba) "
                "FROM pg_database WHERE datname = current_database()"
            )
            database, schema, database_owner = cursor.fetchone()
            database, schema = quote(database), quote(schema)
        return [
            *(f"CREATE ROLE {quote(role)} LOGIN" for role in (owner, app) if role not in existing),
            *([f"ALTER DATABASE {database} OWNER TO {owner_q}"] if database_owner != owner else []),
            *(f"ALTER {kind} {name} OWNER TO {owner_q}" for kind, name in not_owned),
            f"GRANT CONNECT, TEMPORARY ON DATABASE {database} TO {app_q}",
            f"REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC",
            f"GRANT USAGE ON SCHEMA {schema} TO {app_q}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {app_q}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {app_q}",
            # Tables later migrations create are usable by the app at once.
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner_q} IN SCHEMA {schema} "
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app_q}",
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner_q} IN SCHEMA {schema} "
            f"GRANT USAGE, SELECT ON SEQUENCES TO {app_q}",
            # rule §5: the app's role may only INSERT and SELECT on the audit trail (its
            # events and its seals).
            *(
                statement
                for audit in audit_tables
                for statement in (
                    f"REVOKE ALL ON {audit} FROM {app_q}",
                    f"REVOKE ALL ON {audit} FROM PUBLIC",
                    f"GRANT SELECT, INSERT ON {audit} TO {app_q}",
                )
            ),
        ]
