"""The rules registry stays tied to the code: every function it names imports, every
implemented rule has a test citing it, nothing cites an id it lacks, and docs/rules.md is
what `make rules` writes today."""

import re
from pathlib import Path

import pytest
from django.utils.module_loading import import_string

from portal.rule_citations import (
    RULES_DOC,
    citations,
    citing_tests,
    render_rules_doc,
    rule_ids_in,
    rules_without_tests,
    source_file,
    unknown_citations,
)
from portal.rules import RULES, Status

# The database only because the suite's autouse fixtures clear the (database) cache.
pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def found():
    return citations(ROOT)


def test_every_implemented_rule_names_a_function_that_imports():
    for rule in RULES:
        if rule.status == Status.PLANNED:
            assert rule.implemented_by is None, rule.id
            continue
        function = import_string(rule.implemented_by)
        assert callable(getattr(function, "func", function)), rule.id  # a task wraps `func`
        assert (ROOT / source_file(ROOT, rule.implemented_by)).is_file()


def test_ids_are_unique_and_summaries_are_one_line():
    assert len({rule.id for rule in RULES}) == len(RULES)
    assert all("\n" not in rule.summary and len(rule.summary) < 200 for rule in RULES)


def test_every_implemented_rule_is_cited_by_a_test(found):
    missing = rules_without_tests(found)
    assert not missing, (
        f"No test cites {', '.join(missing)}: add `# rule <id>` to the test that proves it."
    )


def test_nothing_cites_an_unknown_rule(found):
    unknown = unknown_citations(found)
    assert not unknown, "Unknown rule ids (see portal/rules.py):\n" + "\n".join(unknown)


def test_docs_rules_md_is_generated_from_the_registry():
    committed = (ROOT / RULES_DOC).read_text(encoding="utf-8")
    assert committed == render_rules_doc(ROOT), "docs/rules.md is out of date: run `make rules`."


@pytest.mark.parametrize(
    ("text", "known", "unknown"),
    [
        ("# rule E4: refund by the method", ["E4"], []),
        ("Rules N1-N3, N6.", ["N1", "N2", "N3", "N6"], []),
        ("with the effects of E1 to E3", ["E1", "E2", "E3"], []),
        ("(D5, E3)", ["D5", "E3"], []),
        ("Rules N4–N5", ["N4", "N5"], []),
        ("SPEC §3: stale", ["S3"], []),
        ("SPEC §5", ["S5.own", "S5.roles", "S5.audit", "S5.exports"], []),
        ("(SPEC §3-§4)", ["S3", "S4"], []),
        ("rule S5.audit: the chain", ["S5.audit"], []),
        ("rule E10 and N7", [], ["E10", "N7"]),
        ("rules E4-N3", [], ["E4-N3"]),
        ("§9", [], ["§9"]),
        ("# noqa: S105, E501  (E.164 numbers, MD5, B2B)", [], []),
    ],
)
def test_citation_forms(text, known, unknown):
    assert rule_ids_in(text) == (known, unknown)


def test_a_citation_counts_for_the_test_it_sits_in_or_else_the_module(tmp_path):
    module = tmp_path / "tests" / "test_example.py"
    module.parent.mkdir()
    module.write_text(
        '"""Module about rule B2."""\n'
        "\n"
        "\n"
        "def helper():\n"
        '    """Rule B3."""\n'
        "\n"
        "\n"
        "def test_one():\n"
        '    assert "rule D1" != "rule D2"  # rule E4\n'
        "\n"
        "\n"
        "class TestGroup:\n"
        "    def test_two(self):\n"
        '        """Rule N5."""\n',
        encoding="utf-8",
    )
    by_rule = citing_tests(citations(tmp_path))
    path = "tests/test_example.py"
    assert by_rule == {
        "B2": [path],
        "B3": [path],
        "E4": [f"{path}::test_one"],
        "N5": [f"{path}::TestGroup::test_two"],
    }


def test_the_readme_and_docs_link_only_inside_the_repository():
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text(encoding="utf-8")):
            if target.startswith("#"):
                continue
            file = (page.parent / target.split("#")[0]).resolve()
            assert "://" not in target, f"{page.name} links outside: {target}"
            assert file.is_relative_to(ROOT) and file.exists(), f"{page.name}: {target}"
