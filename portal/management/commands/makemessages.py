"""Django's `makemessages`, limited to what a holder reads (rule B5).

The back office stays in English, so its modules and templates are left out of the
catalogue, with the tools' own folders. `make messages` runs it for Spanish."""

from django.core.management.commands import makemessages

IGNORED = [
    ".venv",
    "staticfiles",
    "static",
    "tests",
    "bench",
    "*/admin.py",
    "refunds/admin",
    "templates/admin",
    "*/management",
]


class Command(makemessages.Command):
    def handle(self, *args, **options):
        options["ignore_patterns"] = [*options.get("ignore_patterns", []), *IGNORED]
        # File names only: line numbers would change the catalogue on every edit.
        options["add_location"] = options.get("add_location") or "file"
        options["no_obsolete"] = True
        return super().handle(*args, **options)
