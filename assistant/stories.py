"""Files -> stories.

A file holds either one story (a title line then a date line, or a
``date YYYY-MM-DD ... | site`` header and no title) or a listing page of many stories,
each opening with a kind line (``Story``, ``Press Release``, ``Publication``), a date
line and a title line and closing with a ``1 of N`` line. Listing pages also carry
"Latest" teaser blocks (kind, date, title, ``Learn more``) that only repeat stories
printed in full: they are dropped, never indexed as evidence.

Each story's ``text`` is the exact slice ``file_text[start:end]`` of its body, so quotes
and offsets computed on it point at verbatim source text.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from .dates import MONTH_STEMS
from .display import shorten
from .types import Story

KINDS = ("Story", "Press Release", "Publication")
END_MARKER = re.compile(r"^\s*\d+\s+of\s+\d+\s*$")
NAV_LINES = re.compile(r"^\s*(Latest|Latest Resources|Learn more|\d+\s*/\s*\d+)\s*$")
HEADER_LINE = re.compile(r"^\s*date\s+(\d{4}-\d{2}-\d{2})\b(.*?)(?:\|\s*(\S+))?\s*$")
KAZAKH_LETTERS = set("әғқңөұүһіӘҒҚҢӨҰҮҺІ")


@dataclass
class _Line:
    text: str
    start: int
    end: int  # excludes the newline

    @property
    def stripped(self) -> str:
        return self.text.strip()


def split_lines(text: str) -> list[_Line]:
    """The lines of `text` with their offsets, so a story's text can be cut from the file exactly."""
    lines, pos = [], 0
    for raw in text.splitlines(keepends=True):
        body = raw.rstrip("\r\n")
        lines.append(_Line(body, pos, pos + len(body)))
        pos += len(raw)
    return lines


def parse_date(text: str) -> str | None:
    """An ISO date from a short line like '28 November 2023', 'Nov 28, 2016', '2023 ж. 28 August'."""
    s = text.strip()
    if not s or len(s) > 40:
        return None
    iso = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", s)
    if iso:
        return _iso(int(iso[1]), int(iso[2]), int(iso[3]))
    year = re.search(r"\b(1[89]\d\d|20\d\d)\b", s)
    month = None
    for word in re.findall(r"[^\W\d_]+", s.lower()):
        if len(word) >= 3 and word[:3] in MONTH_STEMS:
            month = MONTH_STEMS[word[:3]]
            break
    days = [int(d) for d in re.findall(r"\b(\d{1,2})\b", s) if 1 <= int(d) <= 31]
    if not (year and month and days):
        return None
    return _iso(int(year[1]), month, days[0])


def _iso(y: int, m: int, d: int) -> str | None:
    try:
        return date(y, m, d).isoformat()
    except ValueError:
        return None


def detect_language(text: str) -> str:
    """'en' unless 30% of the letters are Cyrillic; then 'kk' if over 1% of those are Kazakh-only letters, else 'ru'."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return "en"
    cyrillic = sum(1 for c in letters if "CYRILLIC" in unicodedata.name(c, ""))
    if cyrillic / len(letters) < 0.3:
        return "en"
    kazakh = sum(1 for c in letters if c in KAZAKH_LETTERS)
    return "kk" if kazakh / cyrillic > 0.01 else "ru"


def make_title(body: str, limit: int = 110) -> str:
    """A headline for an untitled story: its first sentence, cut at a clause boundary."""
    first = re.split(r"(?<=[.!?])\s", body.strip(), maxsplit=1)[0].strip()
    clause = re.split(r",\s|;\s|\s[–—-]\s", first, maxsplit=1)[0].rstrip(".")
    return shorten(clause, limit)


def story_id_for(source: str, title: str, when: str | None) -> str:
    """Stable across re-ingests: the same story in the same file keeps its id."""
    digest = hashlib.sha1(f"{Path(source).name}\x00{title}\x00{when}".encode()).hexdigest()
    return f"{Path(source).stem[:24]}-{digest[:10]}"


def _story(source: str, title: str, when: str | None, kind: str, body: list[_Line], text: str, **kw) -> Story | None:
    body = [ln for ln in body if ln.stripped]
    while body and (NAV_LINES.match(body[-1].text) or END_MARKER.match(body[-1].text)):
        body.pop()
    if not body:
        return None
    start, end = body[0].start + _lead(body[0].text), body[-1].end
    chunk = text[start:end].rstrip()
    end = start + len(chunk)
    title = " ".join(title.split())
    lang = detect_language(title + " " + chunk)
    return Story(story_id_for(source, title, when), title, when, kind, lang, source, chunk, start, end, **kw)


def _lead(s: str) -> int:
    return len(s) - len(s.lstrip())


def _kind_blocks(lines: list[_Line]) -> list[int]:
    """Indexes of lines opening a kind/date/title block."""
    starts = []
    for i, ln in enumerate(lines[:-2]):
        if ln.stripped in KINDS and parse_date(lines[i + 1].text) and lines[i + 2].stripped:
            starts.append(i)
    return starts


def parse_listing(text: str, source: str, lines: list[_Line], starts: list[int]) -> list[Story]:
    """The stories of a saved listing page: one a kind/date/title block at `starts`, then its undated sections."""
    stories: list[Story] = []
    boundaries = [*starts, len(lines)]
    for i, begin in enumerate(starts):
        stop = boundaries[i + 1]
        for j in range(begin + 3, stop):
            if END_MARKER.match(lines[j].text):
                stop = j
                break
        body = lines[begin + 3 : stop]
        if all(not ln.stripped or NAV_LINES.match(ln.text) for ln in body):
            continue  # a teaser: kind, date, title, "Learn more"
        kind, when, title = lines[begin].stripped, parse_date(lines[begin + 1].text), lines[begin + 2].stripped
        teaser_free = _cut_at_section_header(body)
        story = _story(source, title, when, kind, teaser_free, text)
        if story:
            stories.append(story)
    stories.extend(_page_sections(text, source, lines, starts))
    return stories


def _cut_at_section_header(body: list[_Line]) -> list[_Line]:
    """A listing block runs until a navigation header ("Latest") that opens the next section."""
    for j, ln in enumerate(body):
        if ln.stripped in ("Latest", "Latest Resources"):
            return body[:j]
    return body


def _page_sections(text: str, source: str, lines: list[_Line], starts: list[int]) -> list[Story]:
    """Undated page sections ("Latest" header, a heading, a paragraph) outside any story block."""
    out = []
    for sec in _sections(lines, _block_lines(lines, starts)):
        if len(sec) >= 2 and len(sec[0].stripped) < 120 and any(len(ln.stripped) >= 150 for ln in sec[1:]):
            story = _story(source, sec[0].stripped, None, "Page", sec[1:], text)
            if story:
                out.append(story)
    return out


def _block_lines(lines: list[_Line], starts: list[int]) -> set[int]:
    """Indexes of the lines the story blocks at `starts` take, each up to its end marker or section header."""
    covered: set[int] = set()
    for begin in starts:
        j = begin + 3
        while j < len(lines) and not END_MARKER.match(lines[j].text) and j not in starts:
            if lines[j].stripped in ("Latest", "Latest Resources"):
                break
            j += 1
        covered.update(range(begin, j + 1))
    return covered


def _sections(lines: list[_Line], covered: set[int]) -> list[list[_Line]]:
    """The runs of non-blank lines outside `covered`, split at navigation lines and end markers."""
    sections: list[list[_Line]] = []
    current: list[_Line] = []
    for i, ln in enumerate(lines):
        if i in covered or NAV_LINES.match(ln.text) or END_MARKER.match(ln.text):
            if current:
                sections.append(current)
            current = []
        elif ln.stripped:
            current.append(ln)
    if current:
        sections.append(current)
    return sections


def parse_single(text: str, source: str, lines: list[_Line]) -> list[Story]:
    """A file holding one story: a `date` header line, a title over a date, a title alone, or bare text."""
    content = [i for i, ln in enumerate(lines) if ln.stripped]
    if not content:
        return []
    first = lines[content[0]]
    header = HEADER_LINE.match(first.text)
    if header:
        body = lines[content[0] + 1 :]
        body_text = " ".join(ln.stripped for ln in body if ln.stripped)
        site = header[3] or ""
        return _nonempty(_story(source, make_title(body_text), header[1], "Story", body, text, site=site))
    if len(content) >= 2 and parse_date(lines[content[1]].text):
        when = parse_date(lines[content[1]].text)
        return _nonempty(_story(source, first.stripped, when, "Story", lines[content[1] + 1 :], text))
    if len(first.stripped) <= 200 and len(content) >= 2:
        return _nonempty(_story(source, first.stripped, None, "Story", lines[content[1] :], text))
    body_text = " ".join(lines[i].stripped for i in content)
    return _nonempty(_story(source, make_title(body_text), None, "Story", lines[content[0] :], text))


def _nonempty(story: Story | None) -> list[Story]:
    return [story] if story else []


def parse_text(text: str, source: str) -> list[Story]:
    """All stories in one file's text, in file order, with unique ids."""
    lines = split_lines(text)
    starts = _kind_blocks(lines)
    stories = parse_listing(text, source, lines, starts) if starts else parse_single(text, source, lines)
    stories.sort(key=lambda s: s.start)
    return _unique_ids(stories)


def _unique_ids(stories: list[Story]) -> list[Story]:
    seen: dict[str, int] = {}
    out = []
    for s in stories:
        n = seen.get(s.story_id, 0)
        seen[s.story_id] = n + 1
        out.append(s if n == 0 else _replace(s, story_id=f"{s.story_id}-{n + 1}"))
    return out


def _replace(story: Story, **changes) -> Story:
    data = story.as_dict() | changes
    return Story(**data)


def link_translations(stories: list[Story], similarity, threshold: float = 0.86) -> list[Story]:
    """Mark a story in one language as the translation of a same-dated story in another.

    `similarity(a, b)` compares two stories across languages (the multilingual
    embedding's cosine); the English (or earlier-ingested) story is the original.
    """
    by_date: dict[str, list[Story]] = {}
    for s in stories:
        if s.date:
            by_date.setdefault(s.date, []).append(s)
    links: dict[str, str] = {}
    for group in by_date.values():
        for a in group:
            for b in group:
                candidate = a.language == "en" and b.language != "en" and b.story_id not in links
                if candidate and similarity(a, b) >= threshold:
                    links[b.story_id] = a.story_id
    return [_replace(s, translation_of=links[s.story_id]) if s.story_id in links else s for s in stories]
