"""Answers people can take away: an answer and its sources as Markdown.

Used by `assistant ask --format markdown` and by the web UI's "Copy as Markdown" button,
so both give the same text: the question, the answer with its [n] markers, and per
source its title, kind, date, file and quoted sentence. Story text is untrusted: every
character Markdown would read as markup (links, emphasis, HTML, headings) is escaped, so a
title like ``[click](javascript:…)`` pastes as text, never as a link.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .results import Answer

__all__ = ["answer_markdown", "md_text"]

MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~])")
MARKER = re.compile(r"\\\[(\d+)\\\]")
BULLET = "- "


def md_text(text: str) -> str:
    """`text` on one line with every Markdown control character escaped."""
    return MD_SPECIAL.sub(r"\\\1", " ".join((text or "").split()))


def _body(text: str) -> str:
    """The answer's lines escaped, its own "- " bullets and [n] markers kept; each other line a paragraph."""
    out: list[str] = []
    for line in (ln for ln in text.splitlines() if ln.strip()):
        bullet = line.startswith(BULLET)
        escaped = MARKER.sub(r"[\1]", md_text(line[len(BULLET) :] if bullet else line))
        if out and not (bullet and out[-1].startswith(BULLET)):
            out.append("")  # paragraphs and the list apart; list items together
        out.append((BULLET if bullet else "") + escaped)
    return "\n".join(out)


def answer_markdown(answer: Answer, origins: Mapping[str, str] | None = None) -> str:
    """The answer and its sources as Markdown; `origins` maps a source file to corpus, upload or folder."""
    out = [f"**Q:** {md_text(answer.question)}", "", _body(answer.text)]
    if answer.notice:
        out += ["", f"_Note: {md_text(answer.notice)}_"]
    if answer.citations:
        out += ["", "**Sources**", ""]
    for c in answer.citations:
        meta = [c.kind, c.date or "undated"] + (["uploaded"] if (origins or {}).get(c.source) == "upload" else [])
        source = " ".join((c.source or "").replace("`", "'").split())
        out.append(f"{BULLET}[{c.n}] *{md_text(c.title)}* ({md_text(', '.join(meta))}), `{source}`")
        out.append(f"  > “{md_text(c.quote)}”")
    return "\n".join(out) + "\n"
