"""The month table: month names and abbreviations, and the patterns built from them.

Story dates ("28 November 2023", "28 ноября 2023"), date filters ("Sept 2023"), dates in
questions and dates in evidence sentences are all read with this one table.
"""

from __future__ import annotations

__all__ = [
    "MONTH_ABBREVIATIONS",
    "MONTH_NAMES",
    "MONTH_NUMBERS",
    "MONTH_PATTERN",
    "MONTH_STEMS",
    "MONTH_WORD_PATTERN",
]

# left to the hand (fmt: skip): a table, six months a line
MONTH_NAMES = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
# The English abbreviations in use, in calendar order: each month's first three letters, and "sept".
MONTH_ABBREVIATIONS = (*(name[:3] for name in MONTH_NAMES[:9]), "sept", *(name[:3] for name in MONTH_NAMES[9:]))
# An English month name or abbreviation (lower case) -> its number.
MONTH_NUMBERS = {name: i for i, name in enumerate(MONTH_NAMES, 1)} | {
    short: i for short in MONTH_ABBREVIATIONS for i, name in enumerate(MONTH_NAMES, 1) if name.startswith(short)
}
# The first three letters of a month's name in English, Russian (genitive too) and Kazakh -> its number.
# left to the hand (fmt: skip): a table, one language and six months a line
MONTH_STEMS = {short: MONTH_NUMBERS[short] for short in MONTH_ABBREVIATIONS if len(short) == 3} | {
    # Russian (genitive stems)
    "янв": 1, "фев": 2, "мар": 3, "апр": 4, "мая": 5, "май": 5, "июн": 6,
    "июл": 7, "авг": 8, "сен": 9, "окт": 10, "ноя": 11, "дек": 12,
    # Kazakh
    "қаң": 1, "ақп": 2, "нау": 3, "сəу": 4, "сәу": 4, "мам": 5, "мау": 6,
    "шіл": 7, "там": 8, "қыр": 9, "қаз": 10, "қар": 11, "жел": 12,
}  # fmt: skip

# A month as written in English text: its full name or an abbreviation, then perhaps a full stop.
# Capitalised: matched without re.I it finds a month only where a name would be capitalised.
_MONTH_WORDS = (*MONTH_NAMES, *(short for short in MONTH_ABBREVIATIONS if short not in MONTH_NAMES))  # "may" once
MONTH_PATTERN = "(?:" + "|".join(word.capitalize() for word in _MONTH_WORDS) + r")\.?"
# Any word that begins with a month's abbreviation ("sep", "Sept.", "september"), for case-blind patterns.
MONTH_WORD_PATTERN = "(?:" + "|".join(MONTH_ABBREVIATIONS) + r")[a-z]*\.?"
