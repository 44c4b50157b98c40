"""Where the code and the tests cite the rules of `portal.rules`, and `docs/rules.md`.

A citation is a rule id in a comment or a docstring, in any of the forms in use: `rule E4`,
`rules N1-N3`, `E1 to E8`, `(B2)`, `SPEC §3`, `§3-§5`, `S5.audit`. A range counts for
each rule in it, a section (`§5`) for each rule of the section. Ids in code strings are
not citations. A citation inside a test function counts for that test; one elsewhere in
a test module (its docstring, a helper) counts for the module.

Pure reading of source files (`ast`, `tokenize`): nothing is imported, so it is fast
and needs no database.
"""

import ast
import io
import re
import tokenize
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from .rules import RULES, RULES_BY_ID, SECTIONS, Status

SCANNED = ("accounts", "portal", "refunds", "tests")
RULES_DOC = Path("docs/rules.md")

# One or two digits: `E501` or `S105` in a `noqa` comment is a linter code, not a rule.
_ID = r"(?:§\s?\d{1,2}|[DENB]\d{1,2}|S\d(?:\.[a-z]+)?)"
COMMENT = re.compile(r"#.*")
DEFINITIONS = (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
CITATION = re.compile(rf"(?<![\w.§])({_ID})(?:\s*(?:-|–|\bto\b)\s*({_ID}))?(?!\w)")


@dataclass(frozen=True)
class Citation:
    path: str  # relative to the repository, with forward slashes
    line: int
    test: str | None  # pytest node id, or the module's path; None outside test modules
    rule_ids: tuple[str, ...]
    unknown: tuple[str, ...]


def _section(token: str) -> int | None:
    if token.startswith("§"):
        return int(token[1:].strip())
    if token.startswith("S") and "." not in token and token not in RULES_BY_ID:
        return int(token[1:])
    return None


def _expand_one(token: str) -> list[str]:
    section = _section(token)
    if section is not None:
        return [rule.id for rule in RULES if rule.section == section]
    return [token] if token in RULES_BY_ID else []


def _expand_range(first: str, last: str) -> list[str]:
    first_section, last_section = _section(first), _section(last)
    if first_section is not None and last_section is not None:
        return [r.id for r in RULES if first_section <= r.section <= last_section]
    if first[0] != last[0] or first not in RULES_BY_ID or last not in RULES_BY_ID:
        return []
    ids = [rule.id for rule in RULES if rule.id[0] == first[0]]
    start, end = ids.index(first), ids.index(last)
    return ids[start : end + 1]


def rule_ids_in(text: str) -> tuple[list[str], list[str]]:
    """The rule ids `text` cites, ranges and sections expanded, and the unknown ones."""
    known: list[str] = []
    unknown: list[str] = []
    for match in CITATION.finditer(text):
        first, last = match.group(1), match.group(2)
        ids = _expand_range(first, last) if last else _expand_one(first)
        if ids:
            known.extend(rule_id for rule_id in ids if rule_id not in known)
        else:
            unknown.append(match.group(0))
    return known, unknown


def _texts(source: str, tree: ast.Module):
    """(line, text) of every comment and docstring in a module."""
    if any(CITATION.search(line) for line in COMMENT.findall(source)):
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                yield token.start[0], token.string
    nodes: list[ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef] = [tree]
    while nodes:
        node = nodes.pop()
        first = node.body[0] if node.body else None
        if isinstance(first, ast.Expr):
            docstring = getattr(first.value, "value", None)
            if isinstance(docstring, str):
                yield first.lineno, docstring
        nodes.extend(child for child in node.body if isinstance(child, DEFINITIONS))


def _test_spans(tree: ast.Module, path: str) -> list[tuple[int, int, str]]:
    """(first line, last line, node id) of each test function, decorators included."""
    spans: list[tuple[int, int, str]] = []

    def visit(nodes: list[ast.stmt], prefix: str) -> None:
        for node in nodes:
            if isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
                visit(node.body, f"{prefix}::{node.name}")
            elif isinstance(node, DEFINITIONS[1:]) and node.name.startswith("test"):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                last = node.lineno if node.end_lineno is None else node.end_lineno  # ast sets it
                spans.append((first, last, f"{prefix}::{node.name}"))

    visit(tree.body, path)
    return spans


def is_test_module(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return path.startswith("tests/") and name.startswith("test_") and name.endswith(".py")


def file_citations(root: Path, file: Path) -> list[Citation]:
    path = file.relative_to(root).as_posix()
    source = file.read_text(encoding="utf-8")
    tree = ast.parse(source, filename=path)
    test_module = is_test_module(path)
    spans = _test_spans(tree, path) if test_module else []
    citations = []
    for line, text in _texts(source, tree):
        known, unknown = rule_ids_in(text)
        if not known and not unknown:
            continue
        test = None
        if test_module:
            test = next((node for first, last, node in spans if first <= line <= last), path)
        citations.append(Citation(path, line, test, tuple(known), tuple(unknown)))
    return citations


def citations(root: Path) -> list[Citation]:
    """Every citation in the apps and the tests, in path and line order."""
    found = []
    for directory in SCANNED:
        for file in sorted((root / directory).rglob("*.py")):
            found.extend(file_citations(root, file))
    return sorted(found, key=lambda citation: (citation.path, citation.line))


def citing_tests(found: list[Citation]) -> dict[str, list[str]]:
    """Rule id → the tests (node ids, or module paths) that cite it, sorted."""
    tests = defaultdict(set)
    for citation in found:
        if citation.test:
            for rule_id in citation.rule_ids:
                tests[rule_id].add(citation.test)
    return {rule_id: sorted(node_ids) for rule_id, node_ids in tests.items()}


def rules_without_tests(found: list[Citation]) -> list[str]:
    tested = citing_tests(found)
    return [r.id for r in RULES if r.status == Status.IMPLEMENTED and r.id not in tested]


def unknown_citations(found: list[Citation]) -> list[str]:
    """`path:line: text` of each citation of an id the registry does not have."""
    return [f"{c.path}:{c.line}: {text}" for c in found for text in c.unknown]


def source_file(root: Path, dotted: str) -> str:
    """The repository file that defines `dotted` (found without importing it)."""
    parts = dotted.split(".")
    for size in range(len(parts) - 1, 0, -1):
        candidate = Path(*parts[:size])
        for file in (candidate.with_suffix(".py"), candidate / "__init__.py"):
            if (root / file).is_file():
                return file.as_posix()
    raise LookupError(f"No module file for {dotted}")


def render_rules_doc(root: Path) -> str:
    """The text of `docs/rules.md`."""
    tested = citing_tests(citations(root))
    lines = [
        "# The rules",
        "",
        "<!-- Generated by `make rules` from portal/rules.py. Do not edit by hand. -->",
        "",
        "Every rule the portal follows, with its id, what it means in one line, the function",
        "that implements it and the tests that cite it. The registry is",
        "[`portal/rules.py`](../portal/rules.py); this page is generated from it and from the",
        "citations in the code (`make rules`).",
        "",
        "Cite a rule by its id in a comment or a docstring, where it is implemented and in",
        "the test that proves it: `# rule E4: ...`, `Rules N1-N3: ...`, `(B2)`, `SPEC §3`.",
        "A range (`N1-N3`, `E1 to E8`) counts for each rule in it, a section (`§5`) for each",
        "rule of the section. `make test` fails when an implemented rule has no test citing",
        "it, when code or a test cites an id not listed here, or when this page is out of",
        "date. After adding a rule or a citing test, run `make rules` and commit the page.",
        "",
        "| id | rule | implemented by | tests |",
        "|---|---|---|---|",
    ]
    for rule in RULES:
        where = f"`{rule.implemented_by}`" if rule.implemented_by else f"*{rule.status.value}*"
        count = len(tested.get(rule.id, []))
        lines.append(f"| [{rule.id}](#{_anchor(rule)}) | {rule.title} | {where} | {count} |")
    for section, heading in SECTIONS.items():
        lines += ["", f"## §{section} {heading}"]
        for rule in (r for r in RULES if r.section == section):
            lines += ["", f"### {rule.id} {rule.title}", "", rule.summary, ""]
            if rule.implemented_by:
                file = source_file(root, rule.implemented_by)
                lines.append(f"Implemented by [`{rule.implemented_by}`](../{file}).")
            else:
                lines.append(f"Status: {rule.status.value}, not implemented yet.")
            node_ids = tested.get(rule.id, [])
            lines += ["", "Tests:" if node_ids else "Tests: none yet."]
            lines += [f"- `{node_id}`" for node_id in node_ids]
    return "\n".join(lines) + "\n"


def _anchor(rule) -> str:
    """The anchor code hosts give the heading `### <id> <title>`."""
    text = f"{rule.id} {rule.title}".lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")
