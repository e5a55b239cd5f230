r"""Text shown to people: safe for a terminal, and in plain words ("1 story", not "1 stories").

Story text, titles and file names are untrusted. Printed raw, an escape sequence in a
story could retitle the terminal (OSC ``ESC ] 0;`` … ``BEL``), move the cursor, or a
right-to-left override could reorder the line it sits on. `terminal_safe` removes every
escape sequence, every C0/C1 control except newline and tab, and the bidi embedding,
override and isolate characters; `json_text` keeps the data exact but writes those
characters as ``\uXXXX`` escapes.
"""

from __future__ import annotations

import json
import re

ESCAPE_SEQUENCE = re.compile(
    r"""
      \x1b\[ [0-?]* [ -/]* [@-~]                 # CSI: colours, cursor movement
    | \x9b [0-?]* [ -/]* [@-~]                   # 8-bit CSI
    | (?:\x1b[\]PX^_]|[\x9d\x90\x98\x9e\x9f])    # OSC, DCS, SOS, PM, APC (7- or 8-bit) ...
      [^\x07\x1b\x9c]* (?:\x07|\x1b\\|\x9c)?     # ... up to BEL or ST, or the end of the text
    | \x1b [ -/]* [0-~]                          # any other escape (charset, keypad, reset)
    """,
    re.VERBOSE,
)
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0 except \t \n, DEL, C1
BIDI_CONTROL = re.compile("[\u202a-\u202e\u2066-\u2069]")
JSON_UNSAFE = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def terminal_safe(text: str) -> str:
    """`text` with escape sequences, control characters (but newline and tab) and bidi controls removed."""
    return BIDI_CONTROL.sub("", CONTROL.sub("", ESCAPE_SEQUENCE.sub("", text or "")))


def json_text(data: object) -> str:
    """Indented JSON, non-ASCII kept readable, every control and bidi character written as an escape."""
    text = json.dumps(data, ensure_ascii=False, indent=2)
    return JSON_UNSAFE.sub(lambda m: f"\\u{ord(m[0]):04x}", text)


def count(n: int, singular: str, plural: str | None = None) -> str:
    """'1 story', '2 stories', '0 files'."""
    return f"{n:,} {singular if n == 1 else plural or singular + 's'}"


def shorten(text: str, limit: int, mark: str = "…") -> str:
    """`text` if it fits in `limit` characters, else its leading whole words and `mark`, within `limit`.

    Cut at `limit - len(mark) + 1` characters, the last (partial) word goes with the space before it,
    so what is left and the mark fit. A text with no space in that much is cut mid-word instead.
    """
    if len(text) <= limit:
        return text
    return text[: limit - len(mark) + 1].rsplit(" ", 1)[0] + mark
