"""Evidence -> answer: the offline reader, abstention, disagreement and citation checks.

The offline reader answers with the evidence's own sentences (so every quote is
verbatim), chosen by what the question asks for:

1. The question is typed (person/organisation, date, place, count, share, list,
   description) from its wording, and its content terms are weighted by rarity.
2. Each evidence sentence is scored by the weighted share of question terms it
   holds (its story title and the sentence before it count for half), whether it holds
   an entity of the asked type that the question does not already name, and the
   rank of its passage. Across languages, where terms cannot match, the multilingual
   embedding's similarity stands in for term overlap.
3. The best sentence is cut to the clause that answers when it is long; further
   sentences are added only when they cover question terms the first did not, or
   when another story gives a different figure for the same thing (disagreement).
4. It abstains when no sentence covers enough of the question or none holds the
   asked type of fact: a decision of the pipeline, calibrated on unanswerable
   questions, never a request in a prompt.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache

import numpy as np

from .chunks import Sentence, split_sentences
from .retrieve import Evidence
from .stories import Story, detect_language
from .text import STOPWORDS, content_terms, stem, terms

MAX_ANSWER_CHARS = 600
LONG_SENTENCE = 260
ABSTAIN_TEXT = "The stories don't say. I found nothing in them that answers this question."
MONTHS = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?"
)
DATE_RE = re.compile(
    rf"\b\d{{1,2}}(?:\s*[-–]\s*\d{{1,2}})?\s+{MONTHS}(?:\s+\d{{4}})?\b|\b{MONTHS}\s+\d{{1,2}}(?:,?\s+\d{{4}})?\b"
    rf"|\b{MONTHS}\s+\d{{4}}\b|\b(?:in|since|from|until|by|of|year)\s+(?:19|20)\d\d\b|\b(?:19|20)\d\d\b"
    r"|\b(?:today|yesterday|last (?:week|month|year)|this year|next year)\b",
    re.I,
)
PERCENT_RE = re.compile(r"\d+(?:[.,]\d+)?\s*(?:%|per\s*cent|percent)", re.I)
NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|"
    r"hundred|thousand|million|billion|dozen|half"
)
NUMBER_RE = re.compile(rf"\d[\d,.]*|\b(?:{NUMBER_WORDS})\b", re.I)
YEAR_RE = re.compile(r"^(?:19|20)\d\d$")
CAPITAL_RUN = re.compile(r"(?:[A-ZА-ЯЁӘҒҚҢӨҰҮҺІ][\w’'\-.]*(?:\s+(?:of|for|and|the|de|on|to)?\s*)?)+")
ACRONYM = re.compile(r"\b[A-Z]{2,}[a-z]?\b")
PLACE_RE = re.compile(r"\b(?:in|at|from|to|across|near|visited)\s+(?:the\s+)?([A-Z][\w\-]+(?:\s+[A-Z][\w\-]+)*)")
MEASURE_NOUNS = {
    "population", "number", "amount", "size", "budget", "cost", "price", "area", "total", "gdp", "salary",
    "revenue", "income", "height", "length", "value", "count", "figure", "funding", "sum", "age",
}  # fmt: skip
SHARE_WORDS = {"percentage", "percent", "share", "proportion", "fraction", "rate", "%", "процент", "доля", "пайыз"}
CUE_TERMS = {"share", "percentag", "percent", "proport", "fraction", "date"}
FIRST_PERSON = re.compile(r"\b(I|we|our|us|my)\b")
JUNK_LINE = re.compile(r"^(?:Photo|Фото|Source|LINKS?)\s*:|https?://|^\W*$", re.I)


@dataclass
class Citation:
    n: int
    story_id: str
    title: str
    date: str | None
    kind: str
    language: str
    source: str
    quote: str
    start: int
    end: int

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Answer:
    question: str
    search_query: str
    text: str
    abstained: bool
    citations: list[Citation]
    backend: str
    latency_ms: float = 0.0
    notice: str = ""
    retrieved: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "question": self.question,
            "search_query": self.search_query,
            "answer": self.text,
            "abstained": self.abstained,
            "citations": [c.as_dict() for c in self.citations],
            "backend": self.backend,
            "latency_ms": round(self.latency_ms, 1),
            "notice": self.notice,
            "retrieved": self.retrieved,
        }


# -- question analysis ------------------------------------------------------------------
@dataclass(frozen=True)
class Profile:
    kind: str  # person | date | place | count | share | list | description
    terms: tuple[str, ...]
    language: str
    wants_two: bool  # "X and Y", "both", two question words: answer may need two sentences


def profile(question: str) -> Profile:
    q = question.lower()
    words_ = re.findall(r"[\w%]+", q)
    first = words_[0] if words_ else ""
    kind = "description"
    if re.search(r"\bhow (many|much)\b|сколько|қанша|неше", q) or _asks_measure(words_):
        kind = "share" if SHARE_WORDS & set(words_) or "%" in q else "count"
    elif re.search(r"\b(what|which) (percentage|share|proportion|fraction)\b", q):
        kind = "share"
    elif re.search(r"\bwhen\b|\b(what|which) (date|day|year|month)\b|когда|қашан|қай кезде", q):
        kind = "date"
    elif re.search(r"\bwhere\b|\b(which|what) (city|country|countries|region|regions|place|town|venue)\b|где|қайда", q):
        kind = "place"
    elif re.search(r"\bwho(m|se)?\b|\b(which|what) (organi[sz]ation|agency|agencies|company|companies|bank|"
                   r"minister|ministry|person|official|band|group|partner|partners|body|bodies|entity|entities|"
                   r"fund|office|programme|program|initiative|project)\b|кто|кім", q):  # fmt: skip
        kind = "person"
    elif first in {"list", "name"} or re.search(r"\bwhat (are|were) the\b|\bwhich\b.*\b(are|were)\b", q):
        kind = "list"
    asks = len(re.findall(r"\b(who|when|where|what|how|which)\b", q))
    wants_two = asks >= 2 or bool(re.search(r"\band (when|where|who|what|how|which)\b|\bboth\b", q))
    focus = tuple(t for t in content_terms(question) if t not in CUE_TERMS)
    return Profile(kind, focus, detect_language(question), wants_two)


def _asks_measure(words_: list[str]) -> bool:
    """'What is the population of ...', 'what was the budget ...': a quantity, though no 'how many'."""
    return len(words_) > 3 and words_[0] in {"what", "what's"} and any(w in MEASURE_NOUNS for w in words_[1:5])


def answer_entities(kind: str, text: str, question: str) -> list[str]:
    """Entities of the asked kind in `text` that the question does not already contain.

    A figure counts only next to one of the question's own common words (within eight
    words): "725 people ... returned" answers "how many people were returned", while
    "8 years" in a sentence that also mentions the population does not give the population.
    """
    if kind in ("count", "share"):
        return [f for f, pos in _figures(kind, text) if _near_focus(text, pos, question)]
    if kind == "date":
        found = [m.group(0) for m in DATE_RE.finditer(text)]
    elif kind == "place":
        found = [m.group(1) for m in PLACE_RE.finditer(text) if not re.match(MONTHS, m.group(1))]
    elif kind in ("person", "list"):
        found = _names(text)
    else:
        return []
    ql = question.lower()
    return [f for f in found if f.strip().lower() not in ql]


def _figures(kind: str, text: str) -> list[tuple[str, int]]:
    percents = [(m.group(0), m.start()) for m in PERCENT_RE.finditer(text)]
    if kind == "share":
        return percents
    spans = [(pos, pos + len(f)) for f, pos in percents]
    return [
        (m.group(0), m.start())
        for m in NUMBER_RE.finditer(text)
        if not any(a <= m.start() < b for a, b in spans)
        and m.group(0).strip(",.")
        and not YEAR_RE.match(m.group(0).strip(",."))
    ]


def _near_focus(text: str, pos: int, question: str, window: int = 8) -> bool:
    focus = {stem(w) for w in re.findall(r"[^\W\d_]+", question) if w.islower() and w not in STOPWORDS}
    focus -= CUE_TERMS
    if not focus:
        return True
    before = re.findall(r"[^\W\d_]+", text[:pos])[-window:]
    after = re.findall(r"[^\W\d_]+", text[pos:])[: window + 1]
    return any(stem(w) in focus for w in before + after)


def _names(text: str) -> list[str]:
    out = []
    for m in CAPITAL_RUN.finditer(text):
        run = m.group(0).strip(" ,.")
        tokens = run.split()
        if len(tokens) >= 2 or (m.start() > 0 and tokens and tokens[0].lower() not in STOPWORDS and len(run) > 2):
            out.append(run)
    out.extend(ACRONYM.findall(text))
    return out


# -- sentence selection -----------------------------------------------------------------
@dataclass
class Candidate:
    ev: Evidence
    sentence: Sentence
    context_terms: frozenset[str]
    own_terms: frozenset[str]
    score: float = 0.0
    coverage: float = 0.0
    typed: bool = False


@lru_cache(maxsize=4096)
def _story_sentences(story_id: str, text: str) -> tuple[Sentence, ...]:
    return tuple(split_sentences(text))


def candidates(evidence: Sequence[Evidence]) -> list[Candidate]:
    seen: set[tuple[str, int]] = set()
    out = []
    for ev in evidence:
        story = ev.story
        sentences = _story_sentences(story.story_id, story.text)
        title_terms = set(terms(story.title))
        previous: Sentence | None = None
        for s in sentences:
            inside = ev.chunk.start <= s.start < ev.chunk.end
            if inside and (story.story_id, s.start) not in seen and _is_prose(s.text):
                seen.add((story.story_id, s.start))
                context = title_terms | (set(terms(previous.text)) if previous else set())
                out.append(Candidate(ev, s, frozenset(context), frozenset(terms(s.text))))
            previous = s
    return out


def _is_prose(text: str) -> bool:
    return len(text.split()) >= 5 and not JUNK_LINE.search(text) and any(c.islower() for c in text)


def score_candidates(
    cands: list[Candidate], prof: Profile, question: str, weights: dict[str, float], dense: np.ndarray | None
) -> None:
    total = sum(weights.get(t, 1.0) for t in prof.terms) or 1.0
    for i, c in enumerate(cands):
        own = sum(weights.get(t, 1.0) for t in prof.terms if t in c.own_terms)
        ctx = sum(weights.get(t, 1.0) for t in prof.terms if t not in c.own_terms and t in c.context_terms)
        c.coverage = (own + 0.5 * ctx) / total
        if dense is not None:
            c.coverage = max(c.coverage, float(np.clip((dense[i] - 0.74) / 0.08, 0.0, 1.0)))
        c.typed = bool(answer_entities(prof.kind, c.sentence.text, question)) if prof.kind != "description" else True
        prior = 1.0 / (c.ev.rank or 1) ** 0.5
        lead = 0.08 if c.sentence.start < 400 else 0.0  # news puts the key fact first
        voice = -0.08 if FIRST_PERSON.search(c.sentence.text) else 0.0  # quoted speech restates, vaguely
        c.score = c.coverage + (0.35 if c.typed else 0.0) + 0.10 * prior + lead + voice


def term_weights(prof: Profile, idf: dict[str, float]) -> dict[str, float]:
    """Rare terms matter most; a term the corpus has never seen weighs as the rarest."""
    top = max(idf.values(), default=1.0)
    return {t: idf.get(t, top) for t in prof.terms}


# -- composing --------------------------------------------------------------------------
@dataclass
class Pick:
    candidate: Candidate
    start: int  # clause offsets in the story
    end: int

    @property
    def story(self) -> Story:
        return self.candidate.ev.story

    @property
    def text(self) -> str:
        return self.story.text[self.start : self.end]


def clause_for(c: Candidate, prof: Profile, question: str, limit: int = LONG_SENTENCE) -> tuple[int, int]:
    """The shortest run of the sentence's clauses that keeps the answer, if the sentence is long."""
    s = c.sentence
    crowded = prof.kind in ("count", "share", "date") and len(answer_entities(prof.kind, s.text, "")) >= 3
    if len(s.text) <= limit and not crowded:
        return s.start, s.end
    seps = list(re.finditer(r"[,;:–—]\s+|\s+(?:and|while|but|which|whereas)\s+", s.text))
    starts = [0] + [m.end() for m in seps]
    ends = [m.start() for m in seps] + [len(s.text)]
    best, best_key = (0, len(s.text)), None
    for i in range(len(starts)):
        for j in range(i, len(ends)):
            piece = s.text[starts[i] : ends[j]]
            if len(piece) > limit and j > i:
                break
            if crowded and len(answer_entities(prof.kind, piece, "")) > 3:
                continue
            covered = len(set(terms(piece)) & set(prof.terms))
            typed = bool(answer_entities(prof.kind, piece, question)) or prof.kind == "description"
            key = (typed, covered, -len(piece))
            if best_key is None or key > best_key:
                best, best_key = (starts[i], ends[j]), key
    a, b = best
    a += len(s.text[a:b]) - len(s.text[a:b].lstrip())
    b = a + len(s.text[a:b].rstrip(" ,;:–—"))
    return s.start + a, s.start + b


def numbers_in(text: str) -> set[str]:
    return {re.sub(r"[^\d.]", "", m.group(0)).strip(".") for m in re.finditer(r"\d[\d,.]*", text)} - {""}


def compose(cands: list[Candidate], prof: Profile, question: str, rarest: str = "") -> tuple[list[Pick], bool]:
    """The sentences (clauses) to answer with, and whether the stories disagree."""
    ranked = sorted(cands, key=lambda c: (-c.score, c.ev.rank, c.sentence.start))
    best = ranked[0]
    picks = [Pick(best, *clause_for(best, prof, question))]
    disagreement = False
    if prof.kind in ("count", "share"):
        rival = _rival_figure(ranked, picks[0], prof, question, rarest)
        if rival:
            picks.append(rival)
            disagreement = True
    covered = set(best.own_terms)
    room = MAX_ANSWER_CHARS - len(picks[0].text) - 40 * len(picks)
    for c in ranked[1:]:
        if len(picks) >= 3 or disagreement:
            break
        new = [t for t in prof.terms if t in c.own_terms and t not in covered]
        gain = len(new) / max(len(prof.terms), 1)
        wants_more = prof.kind == "list" or prof.wants_two or gain >= 0.34
        if c.score >= 0.6 * best.score and wants_more and (gain > 0 or prof.kind == "list") and c.typed:
            a, b = clause_for(c, prof, question)
            if b - a <= room and not any(p.story.story_id == c.ev.story.story_id and p.start == a for p in picks):
                picks.append(Pick(c, a, b))
                covered |= c.own_terms
                room -= (b - a) + 40
    return picks, disagreement


def _rival_figure(ranked: list[Candidate], first: Pick, prof: Profile, question: str, rarest: str) -> Pick | None:
    """A strong sentence from another story giving a different figure for the same thing.

    "The same thing" = it holds the question's rarest term and a figure of the asked
    kind next to the question's words; "different" = no number in common.
    """
    best = first.candidate
    mine = numbers_in(first.text)
    if not mine:
        return None
    for c in ranked[1:8]:
        other = c.ev.story
        if other.story_id == best.ev.story.story_id or other.story_id == best.ev.story.translation_of:
            continue
        if not (c.typed and rarest in c.own_terms and c.score >= 0.6 * best.score):
            continue
        pick = Pick(c, *clause_for(c, prof, question))
        theirs = numbers_in(pick.text)
        if theirs and not (theirs & mine):
            return pick
    return None


def should_abstain(best: Candidate, prof: Profile, cross_lingual: bool) -> bool:
    floor = 0.55 if not cross_lingual else 0.35
    if best.coverage < floor:
        return True
    return prof.kind != "description" and not best.typed


def cite(picks: list[Pick]) -> tuple[str, list[Citation]]:
    """Answer text with [n] markers and one citation per quoted clause."""
    citations: list[Citation] = []
    parts = []
    for p in picks:
        s = p.story
        n = len(citations) + 1
        citations.append(Citation(n, s.story_id, s.title, s.date, s.kind, s.language, s.source, p.text, p.start, p.end))
        parts.append(f"{_as_sentence(p.text)} [{n}]")
    return " ".join(parts), citations


def _as_sentence(text: str) -> str:
    text = text.strip().strip('“”"')
    text = text[0].upper() + text[1:] if text else text
    return text if text.endswith((".", "!", "?", "…")) else text + "."


class OfflineReader:
    """Composes a short, cited answer from the evidence itself; no model, no network."""

    name = "offline"

    def __init__(self, embedder, idf: dict[str, float]) -> None:
        self.embedder = embedder
        self.idf = idf

    def read(self, question: str, evidence: Sequence[Evidence], query_vector=None):
        """(text, citations, abstained, disagreement)."""
        prof = profile(question)
        cands = candidates(evidence)
        if not cands:
            return ABSTAIN_TEXT, [], True, False
        cross = any(c.ev.story.language != prof.language for c in cands) and prof.language != "en"
        dense = self._dense(cands, question, query_vector) if cross else None
        weights = term_weights(prof, self.idf)
        score_candidates(cands, prof, question, weights, dense)
        best = max(cands, key=lambda c: (c.score, -c.ev.rank))
        if should_abstain(best, prof, cross):
            return ABSTAIN_TEXT, [], True, False
        rarest = max(prof.terms, key=lambda t: weights.get(t, 0.0), default="")
        picks, disagreement = compose(cands, prof, question, rarest)
        text, citations = cite(picks)
        if disagreement:
            text = "The stories give different figures. " + text
        return text, citations, False, disagreement

    def _dense(self, cands: list[Candidate], question: str, query_vector) -> np.ndarray:
        q = query_vector if query_vector is not None else self.embedder.query(question)
        vectors = self.embedder.passages([c.sentence.text for c in cands])
        return vectors @ q


# -- citation checks for LLM replies ----------------------------------------------------
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
    options = [s for s in _story_sentences(story.story_id, story.text) if ev.chunk.start <= s.start < ev.chunk.end]
    best = max(options, key=lambda s: (len(mine & set(terms(s.text))), -s.start)) if options else None
    start, end = (best.start, best.end) if best else (ev.chunk.start, ev.chunk.end)
    return Citation(n, story.story_id, story.title, story.date, story.kind, story.language, story.source,
                    story.text[start:end], start, end)  # fmt: skip
