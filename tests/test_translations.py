"""Rule B5: no holder-facing string is left without its Spanish translation.

`makemessages` runs on a copy of the code, so the committed catalogue is not touched;
any entry it brings in empty, or marks fuzzy, fails the test with its text. Fix it
with `make messages` and translate what it lists in locale/es/LC_MESSAGES/django.po."""

import datetime as dt
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils import translation

from portal.dates import date_text

ROOT = Path(settings.BASE_DIR)
SOURCES = ["manage.py", "accounts", "portal", "refunds", "templates", "locale"]
CATALOGUE = Path("locale/es/LC_MESSAGES/django.po")

pytestmark = pytest.mark.django_db  # the autouse cache reset reaches the database cache


@pytest.mark.skipif(
    shutil.which("xgettext") is None,
    reason="makemessages needs GNU gettext (apt-get install gettext); .ci/run installs it",
)
def test_every_holder_facing_string_has_a_spanish_translation(tmp_path):
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("*.mo"))
        else:
            shutil.copy(source, tmp_path / name)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "--locale", "es", "--verbosity", "0"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "portal.settings.test"},
        check=True,
    )
    catalogue = polib.pofile(str(tmp_path / CATALOGUE))
    missing = [e.msgid for e in catalogue.untranslated_entries() + catalogue.fuzzy_entries()]
    assert missing == [], f"{len(missing)} strings need a Spanish translation: {missing}"
    assert len(catalogue.translated_entries()) > 400


def test_the_catalogue_keeps_the_placeholders_of_each_string():
    for entry in polib.pofile(str(ROOT / CATALOGUE)).translated_entries():
        english = sorted(re.findall(r"%\(\w+\)s", entry.msgid))
        translations = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        for spanish in translations:
            assert sorted(re.findall(r"%\(\w+\)s", spanish)) == english, entry.msgid


@pytest.mark.parametrize(
    ("language", "style", "expected"),
    [
        ("en", "day", "December 2, 2026"),
        ("es", "day", "2 de diciembre de 2026"),
        ("en", "weekday", "Wednesday, December 2, 2026"),
        ("es", "weekday", "miércoles, 2 de diciembre de 2026"),
        ("es", "weekday_no_year", "miércoles, 2 de diciembre"),
        ("es", "short", "2 Dic 2026"),
    ],
)
def test_a_day_is_written_the_way_each_language_writes_it(language, style, expected):
    with translation.override(language):
        assert date_text(dt.date(2026, 12, 2), style) == expected
