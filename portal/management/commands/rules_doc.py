from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal.rule_citations import (
    RULES_DOC,
    citations,
    render_rules_doc,
    rules_without_tests,
    unknown_citations,
)


class Command(BaseCommand):
    help = (
        "Write docs/rules.md from the rules registry (portal/rules.py) and the rule ids "
        "cited in the code and the tests (`make rules`). Exits 1, after writing, when an "
        "implemented rule has no test citing it or something cites an unknown id."
    )

    def handle(self, *args, **options):
        root = settings.BASE_DIR
        (root / RULES_DOC).write_text(render_rules_doc(root), encoding="utf-8")
        self.stdout.write(f"Wrote {RULES_DOC}.")
        found = citations(root)
        problems = [f"no test cites rule {rule_id}" for rule_id in rules_without_tests(found)]
        problems += [f"unknown rule id at {where}" for where in unknown_citations(found)]
        if problems:
            raise CommandError("\n- ".join(["Rules not in order:", *problems]))
