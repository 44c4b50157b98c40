"""requirements.lock pins every dependency of pyproject.toml (`make lock` after adding one)."""

from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

pytestmark = pytest.mark.django_db  # the autouse cache reset reaches the database cache

ROOT = Path(__file__).resolve().parent.parent


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = project["dependencies"] + project["optional-dependencies"]["test"]
    return [Requirement(name) for name in names]


def locked() -> dict[str, list[Version]]:
    """Each locked package with its versions (one per Python range where markers differ)."""
    pins: dict[str, list[Version]] = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if "==" in line and not line.startswith((" ", "#")):
            name, version = line.split(";")[0].strip(" \\").split("==")
            pins.setdefault(canonicalize_name(name), []).append(Version(version))
    return pins


def test_every_declared_dependency_is_locked_at_a_version_it_allows():
    pins = locked()
    problems = [
        f"{requirement} (locked: {pins.get(canonicalize_name(requirement.name))})"
        for requirement in declared()
        if not pins.get(canonicalize_name(requirement.name))
        or not all(
            requirement.specifier.contains(v) for v in pins[canonicalize_name(requirement.name)]
        )
    ]
    assert problems == [], f"Run `make lock`: {problems}"
