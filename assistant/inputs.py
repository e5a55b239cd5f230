"""What a person types, checked before it reaches retrieval: dates, language codes, questions.

Dates are read leniently where they are unambiguous (``2023-7-10``, ``2023/07/01``,
``July 2023``, ``10 July 2023``, ``2023``) and refused otherwise, with a message that
lists the forms accepted. A month or a year stands for its first day as a start date
and its last day as an end date, so ``--until "July 2023"`` keeps stories of 31 July.
``01/07/2023`` is refused: it is 1 July in Almaty and 7 January in New York.

This module is imported by `config`, so it stays free of heavy imports.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import replace
from datetime import date
from typing import Any

from .dates import MONTH_NUMBERS
from .display import ESCAPE_SEQUENCE
from .errors import InvalidFilterError, InvalidQuestionError

LANGUAGES = {"en": "English", "kk": "Kazakh", "ru": "Russian"}
DATE_FORMS = (
    "YYYY-MM-DD (2023-07-10; 2023-7-10 and 2023/07/10 work too), a day (10 July 2023 or July 10, 2023), "
    "a month (July 2023 or 2023-07) or a year (2023)"
)
MONTH = r"(?P<month>[A-Za-z]{3,9})\.?"
YEAR = r"(?P<year>\d{4})"
DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
DATE_PATTERNS = [  # tried in order; a pattern without a day (or month) means a whole month (or year)
    re.compile(rf"{YEAR}[-/.](?P<month_no>\d{{1,2}})[-/.]{DAY}"),
    re.compile(rf"{DAY}\s+{MONTH},?\s+{YEAR}"),
    re.compile(rf"{MONTH}\s+{DAY},?\s+{YEAR}"),
    re.compile(rf"{YEAR}[-/.](?P<month_no>\d{{1,2}})"),
    re.compile(rf"{MONTH},?\s+{YEAR}"),
    re.compile(YEAR),
]


def parse_date_bound(text: str | None, end: bool = False, label: str = "date") -> str:
    """`text` as an ISO date ('' when empty); a month or year means its first day, or its last when `end`.

    Raises `InvalidFilterError` naming `label` and the accepted forms when `text` is not a date.
    """
    s = " ".join((text or "").split())
    if not s:
        return ""
    for pattern in DATE_PATTERNS:
        m = pattern.fullmatch(s)
        if m:
            return _bound_from_match(m, end, s, label)
    raise InvalidFilterError(f"The {label} {_shown(s)} is not a date I can read. Use {DATE_FORMS}.")


def _bound_from_match(m: re.Match, end: bool, text: str, label: str) -> str:
    parts = m.groupdict()
    year = int(parts["year"])
    month = _month_number(parts, text, label)
    if month is None:
        return date(year, 12 if end else 1, 31 if end else 1).isoformat()
    day = parts.get("day")
    if day is None:
        day = calendar.monthrange(year, month)[1] if end else 1
    try:
        return date(year, month, int(day)).isoformat()
    except ValueError as err:
        raise InvalidFilterError(f"The {label} {_shown(text)} is not a real day ({err}). Use {DATE_FORMS}.") from err


def _month_number(parts: dict[str, Any], text: str, label: str) -> int | None:
    if parts.get("month_no"):
        number = int(parts["month_no"])
        if not 1 <= number <= 12:
            raise InvalidFilterError(f"The {label} {_shown(text)} has no month {number}. Use {DATE_FORMS}.")
        return number
    name = parts.get("month")
    if name is None:
        return None
    if name.lower() not in MONTH_NUMBERS:
        raise InvalidFilterError(f"The {label} {_shown(text)} names no month I know. Use {DATE_FORMS}.")
    return MONTH_NUMBERS[name.lower()]


def check_language(code: str | None, label: str = "language") -> str:
    """A known language code ('' = every language); anything else raises `InvalidFilterError`."""
    c = (code or "").strip().lower()
    if c in ("", "all"):
        return ""
    if c not in LANGUAGES:
        known = ", ".join(f"{k} ({v})" for k, v in LANGUAGES.items())
        raise InvalidFilterError(
            f"The {label} {_shown(code or '')} is not one the stories are in. Use {known}, or leave it empty for all."
        )
    return c


def checked_filters(filters):
    """The same `retrieve.Filters` with ISO dates and a known language; raises `InvalidFilterError` if not."""
    since = parse_date_bound(filters.date_from, end=False, label="start date")
    until = parse_date_bound(filters.date_to, end=True, label="end date")
    if since and until and since > until:
        raise InvalidFilterError(
            f"The start date {since} is after the end date {until}, so no story can match. Swap or clear them."
        )
    return replace(filters, date_from=since, date_to=until, language=check_language(filters.language))


def clean_question(text: str | None, limit: int) -> tuple[str, str]:
    """The question without escape sequences, control characters and runs of spaces, cut to `limit`; a notice if cut.

    Raises `InvalidQuestionError` when nothing readable is left (empty, or only controls and marks).
    """
    without_escapes = ESCAPE_SEQUENCE.sub(" ", text or "")
    without_controls = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") else ch for ch in without_escapes
    )
    q = " ".join(without_controls.split())
    if not any(ch.isalnum() for ch in q):
        raise InvalidQuestionError(
            "The question is empty (it has no letters or digits): type a question about the stories."
        )
    if len(q) > limit:
        return q[:limit].rsplit(" ", 1)[0], f"The question was cut to its first {limit} characters."
    return q, ""


def _shown(text: str, limit: int = 60) -> str:
    """User text quoted for a message: printable, and short."""
    printable = "".join(ch if ch.isprintable() else "?" for ch in text)
    return repr(printable if len(printable) <= limit else printable[: limit - 1] + "…")
