"""Days as a holder reads them, in the active language (rule B5): the one place their
format is chosen, as `portal.money` is for amounts.

Django's English DATE_FORMAT abbreviates months ("Dec. 2, 2026"); letters, notices and
deadlines spell them out. Spanish follows the form of Django's `es` locale
("2 de diciembre de 2026"); month and day names come from Django's translations."""

from django.utils import formats
from django.utils.translation import get_language

STYLES = {
    "en": {
        "day": "F j, Y",
        "weekday": "l, F j, Y",
        "weekday_no_year": "l, F j",
        "short": "M j, Y",
        "weekday_time": "l, F j, Y, g:i A T",
    },
    "es": {
        "day": r"j \d\e F \d\e Y",
        "weekday": r"l, j \d\e F \d\e Y",
        "weekday_no_year": r"l, j \d\e F",
        "short": "j M Y",
        "weekday_time": r"l, j \d\e F \d\e Y, g:i A T",
    },
}


def date_text(value, style: str = "day") -> str:
    """`date(2026, 12, 2)` → "December 2, 2026" or "2 de diciembre de 2026"; `style` is
    one of `day`, `weekday`, `weekday_no_year`, `short`, `weekday_time`."""
    if value in (None, ""):
        return ""
    language = (get_language() or "en").split("-")[0]
    return formats.date_format(value, STYLES.get(language, STYLES["en"])[style])
