"""The apps depend one way, as docs/architecture.md draws them: refunds → accounts →
portal. Only the project's wiring (portal/urls.py, portal/settings/) names every app."""

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db  # the suite's autouse cache reset reaches the database

ROOT = Path(__file__).resolve().parent.parent
WIRING = {Path("portal/urls.py"), Path("portal/settings")}
MAY_NOT_IMPORT = {"accounts": {"refunds"}, "portal": {"accounts", "refunds"}}


def imported_apps(file: Path) -> set[str]:
    tree = ast.parse(file.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return {name.split(".")[0] for name in names}


def test_imports_point_from_refunds_to_accounts_to_portal():
    wrong = []
    for app, forbidden in MAY_NOT_IMPORT.items():
        for file in sorted((ROOT / app).rglob("*.py")):
            relative = file.relative_to(ROOT)
            if any(relative == w or w in relative.parents for w in WIRING):
                continue
            wrong += [f"{relative} imports {name}" for name in imported_apps(file) & forbidden]
    assert not wrong, "\n".join(wrong)
