"""Stories -> sentences -> chunks.

Chunks never cross a story boundary, carry their story's title and date as metadata,
and stay within the embedding model's input (`max_tokens` word pieces), so no text is
silently cut off before it is embedded. Every sentence keeps its offsets in the story,
which is what lets an answer quote exact text.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from .types import Chunk, Story

# left to the hand (fmt: skip): a word list reads as a paragraph; one word a line would take 25 lines for nothing
ABBREVIATIONS = {
    "mr", "ms", "mrs", "dr", "prof", "st", "no", "vs", "e.g", "i.e", "etc", "inc", "ltd",
    "jr", "sr", "h.e", "u.s", "u.k", "gen", "gov", "sen", "rep", "dept", "approx", "jsc",
}  # fmt: skip
# A sentence ends at . ! ? … (optionally followed by a closing quote) before white space and
# an upper-case letter, digit or opening quote; or at a line break.
BOUNDARY = re.compile(r"(?<=[.!?…])[\"'”’»)]*\s+(?=[\"'“‘«(]*[A-ZА-ЯЁӘҒҚҢӨҰҮҺІ0-9])|\n+")
TOKEN_ESTIMATE = re.compile(r"\w+|[^\w\s]")


@dataclass(frozen=True)
class Sentence:
    """One sentence of a story, with its place in the story text."""

    start: int  # offsets in the story text
    end: int
    text: str


def split_sentences(text: str) -> list[Sentence]:
    """Sentences with exact offsets: `text[s.start:s.end] == s.text` always holds."""
    out: list[Sentence] = []
    pos = 0
    for m in BOUNDARY.finditer(text):
        piece = text[pos : m.start() + 1]
        if "\n" not in m.group(0) and (_ends_with_abbreviation(piece) or inside_quotes(piece)):
            continue
        _add(out, text, pos, m.start() + len(m.group(0)) - len(m.group(0).lstrip("\"'”’»)")))
        pos = m.end()
    _add(out, text, pos, len(text))
    return out


def _ends_with_abbreviation(piece: str) -> bool:
    words = piece.rstrip().split()
    if not words:
        return False
    last = words[-1].rstrip(".").lower().lstrip("(\"'“")
    return last in ABBREVIATIONS or (len(last) == 1 and last.isalpha())


def inside_quotes(piece: str, within: int = 80) -> bool:
    """True when a quotation opened in the last `within` characters of `piece` is still open.

    A quoted title ("Reuse. Recycle. Reduce") is short and is not split; quoted speech runs
    long, and its sentences are split as usual.
    """
    for opening, closing in (('"', '"'), ("“", "”"), ("«", "»")):
        if opening == closing:
            still_open = piece.count(opening) % 2 == 1
        else:
            still_open = piece.count(opening) > piece.count(closing)
        if still_open and len(piece) - piece.rfind(opening) <= within:
            return True
    return False


def _add(out: list[Sentence], text: str, start: int, end: int) -> None:
    piece = text[start:end]
    lead = len(piece) - len(piece.lstrip())
    trail = len(piece.rstrip())
    if trail > lead:
        out.append(Sentence(start + lead, start + trail, text[start + lead : start + trail]))


def estimate_tokens(text: str) -> int:
    """A cheap upper-bound-ish word-piece count for when the embedder offers no tokenizer."""
    return int(len(TOKEN_ESTIMATE.findall(text)) * 1.3) + 2


def chunk_story(
    story: Story,
    max_tokens: int = 160,
    count_tokens: Callable[[str], int] = estimate_tokens,
    overlap: int = 1,
) -> list[Chunk]:
    """Greedy packing of whole sentences; the last `overlap` sentences repeat in the next chunk.

    A single sentence longer than `max_tokens` becomes a chunk of its own, split at
    word boundaries, so nothing falls outside an embedding window.
    """
    pieces = _fit_sentences(split_sentences(story.text), max_tokens, count_tokens)
    chunks: list[Chunk] = []
    i = 0
    while i < len(pieces):
        j, used = i, 0
        while j < len(pieces) and (j == i or used + pieces[j][1] <= max_tokens):
            used += pieces[j][1]
            j += 1
        start, end = pieces[i][0].start, pieces[j - 1][0].end
        chunks.append(_chunk(story, len(chunks), start, end))
        if j >= len(pieces):
            break
        i = max(j - overlap, i + 1) if j - i > overlap else j
    return chunks


def _fit_sentences(sentences: list[Sentence], max_tokens: int, count: Callable[[str], int]):
    out: list[tuple[Sentence, int]] = []
    for s in sentences:
        n = count(s.text)
        if n <= max_tokens:
            out.append((s, n))
            continue
        for part in _split_long(s, max_tokens, count):
            out.append((part, count(part.text)))
    return out


def _split_long(s: Sentence, max_tokens: int, count: Callable[[str], int]) -> list[Sentence]:
    words = list(re.finditer(r"\S+", s.text))
    parts, first = [], 0
    while first < len(words):
        last = first
        while last + 1 < len(words) and count(s.text[words[first].start() : words[last + 1].end()]) <= max_tokens:
            last += 1
        a, b = words[first].start(), words[last].end()
        parts.append(Sentence(s.start + a, s.start + b, s.text[a:b]))
        first = last + 1
    return parts


def _chunk(story: Story, index: int, start: int, end: int) -> Chunk:
    text = story.text[start:end]
    digest = hashlib.sha1(f"{story.story_id}\x00{start}\x00{text}".encode()).hexdigest()[:16]
    return Chunk(f"{story.story_id}-c{digest}", story.story_id, index, start, end, text)


def embedding_text(story: Story, chunk: Chunk) -> str:
    """What gets embedded: the title gives every chunk its story's context."""
    return f"{story.title}\n{chunk.text}"
