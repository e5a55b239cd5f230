"""Citation checks for LLM replies: keep only [n] markers that name a given passage, and quote each.

Small local models rarely write markers at all, so an unmarked sentence is matched to
the passage sharing most of its terms, and each citation quotes the passage sentence
closest to the claim.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .features import story_sentences
from .results import Citation
from .retrieve import Evidence
from .text import terms

__all__ = ["check_llm_citations"]

MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


def check_llm_citations(reply: str, evidence: Sequence[Evidence]) -> tuple[str, list[Citation]]:
    """Keep only [n] markers that name a passage actually given; attach quotes for each.

    Markers outside 1..len(evidence) are dropped. A sentence without a marker gets the
    passage sharing most of its terms, if any shares enough, since small local models
    rarely write markers at all. Citations are renumbered in order of first use, and
    each quote is the passage sentence closest to the claim it supports.
    """
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", reply.strip()) if s]
    used: dict[int, int] = {}  # passage index -> citation number
    citations: list[Citation] = []
    out = []
    for sentence in sentences:
        given = [int(x) for group in MARKER.findall(sentence) for x in group.split(",")]
        valid = [g for g in given if 1 <= g <= len(evidence)]
        bare = MARKER.sub("", sentence).rstrip()
        if not valid:
            guess = _best_passage(bare, evidence)
            valid = [guess] if guess else []
        marks = []
        for g in dict.fromkeys(valid):
            if g not in used:
                used[g] = len(citations) + 1
                citations.append(_quote_citation(used[g], bare, evidence[g - 1]))
            marks.append(f"[{used[g]}]")
        out.append(_attach(bare, marks))
    return " ".join(out).strip(), citations


def _attach(sentence: str, marks: list[str]) -> str:
    if not marks:
        return sentence
    m = re.match(r"^(.*?)([.!?]*)$", sentence, re.S)
    return f"{m[1]} {''.join(marks)}{m[2]}"


def _best_passage(sentence: str, evidence: Sequence[Evidence]) -> int | None:
    mine = set(terms(sentence))
    if len(mine) < 2:
        return None
    best, best_share = None, 0.0
    for i, ev in enumerate(evidence, 1):
        share = len(mine & set(terms(ev.chunk.text))) / len(mine)
        if share > best_share:
            best, best_share = i, share
    return best if best_share >= 0.5 else None


def _quote_citation(n: int, claim: str, ev: Evidence) -> Citation:
    mine = set(terms(claim))
    story = ev.story
    options = [s for s in story_sentences(story.story_id, story.text) if ev.chunk.start <= s.start < ev.chunk.end]
    best = max(options, key=lambda s: (len(mine & set(terms(s.text))), -s.start)) if options else None
    start, end = (best.start, best.end) if best else (ev.chunk.start, ev.chunk.end)
    return Citation(n, story.story_id, story.title, story.date, story.kind, story.language, story.source,
                    story.text[start:end], start, end)  # fmt: skip
