"""`.env.example` lists every environment variable the settings read."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent

pytestmark = pytest.mark.django_db  # the autouse cache reset reaches the database cache


def test_every_variable_the_settings_read_is_in_env_example():
    settings_code = "".join(p.read_text() for p in (ROOT / "portal" / "settings").glob("*.py"))
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]*)"', settings_code))
    listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.M))
    assert len(read) > 25
    assert read - listed == set()
