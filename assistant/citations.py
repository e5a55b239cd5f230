"""Citation checks for LLM replies: keep only [n] markers that name a given passage, and quote each.

Small local models rarely write markers at all, so an unmarked sentence is matched to
the passage sharing most of its terms, and each citation quotes the passage sentence
closest to the claim. `check_citations` also says what the check changed, for the eval;
`supported` is the deterministic faithfulness test the eval applies to every answerer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .features import story_sentences
from .results import Citation
from .text import terms
from .types import Evidence

__all__ = ["CheckedReply", "check_citations", "check_llm_citations", "claims", "sentences_of", "supported"]

MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
SPACED_MARKER = re.compile(r"\s*" + MARKER.pattern)  # removed with the space before it: "claim [9]." -> "claim."
MATCH_SHARE = 0.5  # an unmarked sentence is attributed to a passage holding at least this share of its terms
SUPPORT_SHARE = 0.75  # a sentence is supported when its cited quotes hold at least this share of its terms
MIN_TERMS = 2  # fewer content terms than this ("Yes.") can neither be matched nor judged


@dataclass
class CheckedReply:
    """A reply after the check: its text with valid, renumbered markers, its citations, and what changed."""

    text: str
    citations: list[Citation]
    markers_written: int = 0  # [n] the model wrote
    markers_valid: int = 0  # of those, naming a passage that was given
    dropped: int = 0  # markers naming no given passage, removed
    moved: int = 0  # sentences whose marked passages did not hold them, re-pointed to the one that does
    attached: int = 0  # unmarked sentences given the passage they came from
    uncited: list[str] = field(default_factory=list)  # sentences left without any citation

    @property
    def changed(self) -> bool:
        """Whether the check dropped or moved any marker the model wrote."""
        return bool(self.dropped or self.moved)


def sentences_of(text: str) -> list[str]:
    """A reply's sentences, split at . ! ? and white space (a reply has no abbreviations to guard)."""
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def check_citations(reply: str, evidence: Sequence[Evidence]) -> CheckedReply:
    """Keep only [n] markers that name a passage actually given and hold the sentence; attach quotes for each.

    Markers outside 1..len(evidence) are dropped. A marked sentence that none of its
    passages holds, while another passage does, is moved to that one. A sentence
    without a marker gets the passage sharing most of its terms, if any shares enough,
    since small local models rarely write markers at all. Citations are renumbered in
    order of first use, and each quote is the passage sentence closest to its claim.
    """
    check = CheckedReply("", [])
    used: dict[int, int] = {}  # passage index -> citation number
    out = []
    for sentence in sentences_of(reply):
        given = [int(x) for group in MARKER.findall(sentence) for x in group.split(",")]
        valid = [g for g in given if 1 <= g <= len(evidence)]
        check.markers_written += len(given)
        check.markers_valid += len(valid)
        check.dropped += len(given) - len(valid)
        bare = SPACED_MARKER.sub("", sentence).strip()
        best = _best_passage(bare, evidence)
        if valid and best and all(_share(bare, evidence[g - 1]) < MATCH_SHARE for g in valid):
            valid = [best]
            check.moved += 1
        elif not valid and best:
            valid = [best]
            check.attached += 1
        if not valid and len(set(terms(bare))) >= MIN_TERMS:
            check.uncited.append(bare)
        marks = []
        for g in dict.fromkeys(valid):
            if g not in used:
                used[g] = len(check.citations) + 1
                check.citations.append(_quote_citation(used[g], bare, evidence[g - 1]))
            marks.append(f"[{used[g]}]")
        out.append(_attach(bare, marks))
    check.text = " ".join(out).strip()
    return check


def check_llm_citations(reply: str, evidence: Sequence[Evidence]) -> tuple[str, list[Citation]]:
    """`check_citations` reduced to the checked text and its citations."""
    check = check_citations(reply, evidence)
    return check.text, check.citations


def claims(text: str) -> list[tuple[str, list[int]]]:
    """The answer's sentences, each with the citation numbers that apply to it.

    A marker group applies to the sentences written since the previous one, so both the
    LLM's "claim [1]." and the reader's "Quoted sentence. [1]" are read right.
    """
    out, begin = [], 0
    for m in [*MARKER.finditer(text), None]:
        segment = text[begin : m.start() if m else len(text)]
        numbers = [int(x) for x in m[1].split(",")] if m else []
        out += [(s, numbers) for s in sentences_of(segment)]
        begin = m.end() if m else len(text)
    return out


def supported(sentence: str, quotes: Sequence[str]) -> bool | None:
    """Is the sentence backed by its quotes: do they hold SUPPORT_SHARE of its terms? None if too short to judge."""
    mine = set(terms(MARKER.sub("", sentence)))
    if len(mine) < MIN_TERMS:
        return None
    held = set().union(*(terms(q) for q in quotes)) if quotes else set()
    return len(mine & held) / len(mine) >= SUPPORT_SHARE


def _attach(sentence: str, marks: list[str]) -> str:
    if not marks:
        return sentence
    m = re.match(r"^(.*?)([.!?]*)$", sentence, re.S)
    assert m is not None  # both groups may be empty: every text matches
    return f"{m[1]} {''.join(marks)}{m[2]}"


def _share(sentence: str, ev: Evidence) -> float:
    mine = set(terms(sentence))
    return len(mine & set(terms(ev.chunk.text))) / len(mine) if mine else 0.0


def _best_passage(sentence: str, evidence: Sequence[Evidence]) -> int | None:
    if len(set(terms(sentence))) < MIN_TERMS:
        return None
    best, best_share = None, 0.0
    for i, ev in enumerate(evidence, 1):
        share = _share(sentence, ev)
        if share > best_share:
            best, best_share = i, share
    return best if best_share >= MATCH_SHARE else None


def _quote_citation(n: int, claim: str, ev: Evidence) -> Citation:
    mine = set(terms(claim))
    story = ev.story
    options = [s for s in story_sentences(story.story_id, story.text) if ev.chunk.start <= s.start < ev.chunk.end]
    best = max(options, key=lambda s: (len(mine & set(terms(s.text))), -s.start)) if options else None
    start, end = (best.start, best.end) if best else (ev.chunk.start, ev.chunk.end)
    return Citation(
        n,
        story.story_id,
        story.title,
        story.date,
        story.kind,
        story.language,
        story.source,
        story.text[start:end],
        start,
        end,
    )
