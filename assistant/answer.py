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

from .chunks import Sentence, inside_quotes, split_sentences
from .retrieve import Evidence
from .stories import Story, detect_language
from .text import STOPWORDS, content_terms, stem, terms, words

MAX_ANSWER_CHARS = 600
CROSS_PASSAGES = 3  # passages whose sentences are embedded for cross-language questions
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
NUMBER_RE = re.compile(rf"\d[\d,.]*|\b(?:{NUMBER_WORDS})\b")
YEAR_RE = re.compile(r"^(?:19|20)\d\d$")
CAPITAL_RUN = re.compile(r"(?:[A-ZА-ЯЁӘҒҚҢӨҰҮҺІ][\w’'\-.]*(?:\s+(?:of|for|and|the|de|on|to)?\s*)?)+")
ACRONYM = re.compile(r"\b[A-Z]{2,}[a-z]?\b")
PLACE_RE = re.compile(r"\b(?:in|at|from|to|across|near|visited)\s+(?:the\s+)?([A-Z][\w\-]+(?:\s+[A-Z][\w\-]+)*)")
MEASURE_NOUNS = {
    "population", "number", "amount", "size", "budget", "cost", "price", "area", "total", "gdp", "salary",
    "revenue", "income", "height", "length", "value", "count", "figure", "funding", "sum", "age",
}  # fmt: skip
SHARE_WORDS = {"percentage", "percent", "share", "proportion", "fraction", "rate", "%", "процент", "доля", "пайыз"}
CUE_TERMS = {
    "share", "percentag", "percent", "proport", "fraction", "date",  # the asked kind, not its subject
    "full", "exact", "actual", "main", "specif", "particular", "kind", "type", "sort", "call",  # question filler
}  # fmt: skip
FIRST_PERSON = re.compile(r"\b(I|we|our|us|my)\b")
KAZAKH_LOCATIVE = re.compile(r"\b([А-ЯӘҒҚҢӨҰҮҺІ][\w-]+?)(?:дағы|дегі|тағы|тегі)\b")
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
WH = r"(?:how|what|who|whom|whose|when|where|which|why)"
PART_SPLIT = re.compile(rf",?\s+and\s+(?={WH}\b|(?:at|in|on|for|during|from)\s)", re.I)
FOCUS_OF = re.compile(
    r"\b(?:what|which)\s+(?:is|was|are|were)\s+(?:the|its|their|his|her)\s+([\w\s'’-]+?)\s+"
    r"(?:of|for|in|at|behind|about|between)\b",
    re.I,
)
FOCUS_WHO_VERB = re.compile(
    r"^\s*who\s+(?!is\b|was\b|are\b|were\b|did\b|does\b|do\b|has\b|have\b|will\b)([a-z]+)\b", re.I
)
ROLE_QUESTION = re.compile(
    r"\b(?:position|role|post|job|title)s?\b(.*)\b(?:hold|holds|held|have|has|occupy|occupies|play|plays)(?=\W*$)", re.I
)
DEFINITION = re.compile(
    r"^(?:what|who)\s+(?:is|are|was|were)\s+(?:the\s+|an?\s+)?([\w'’-]+(?:\s+[\w'’-]+){0,2}?)"
    r"(?:\s+(?:project|programme|program|initiative|alliance|organi[sz]ation|agency))?\s*\?*$",
    re.I,
)
FOCUS_WITH_WHOM = re.compile(r"\b(\w+)\s+(?:with|by|to|for)\s+whom\b", re.I)
PLURAL_CATEGORY = re.compile(r"\b(?:which|what)\s+(?:[\w-]+\s+)?([a-z]+[^s\W]s|[a-z]+ies)\b", re.I)


@dataclass(frozen=True)
class Part:
    """One thing a question asks: 'Who launched X' and 'when' are two parts of one question."""

    text: str
    kind: str
    terms: tuple[str, ...]
    focus: frozenset[str]  # required: an answer lacking all of them is marked down
    category: frozenset[str] = frozenset()  # weighed double when present


@dataclass(frozen=True)
class Profile:
    kind: str  # person | date | place | count | share | list | description
    terms: tuple[str, ...]
    language: str
    parts: tuple[Part, ...]
    wants_many: bool  # "which regions", "what are the": several entities may answer
    bigrams: frozenset[tuple[str, str]]
    defines: str = ""  # "what is the FRIENDS project?" -> "friends": a definition is wanted


def question_kind(text: str) -> str:
    q = text.lower()
    words_ = re.findall(r"[\w%]+", q)
    if re.search(r"\b(what|which)\s+(percentage|share|proportion|fraction|percent)\b|%|процент|доля|пайыз", q):
        return "share"
    if re.search(r"\bhow much\b", q):
        return "amount"  # a sum, a size or a share: "by how much", "how much of the country"
    if re.search(r"\bhow many\b|сколько|қанша|неше", q) or _asks_measure(words_):
        return "count"
    if re.search(r"\b(what|which) (percentage|share|proportion|fraction)\b", q):
        return "share"
    if re.search(r"\brank(s|ed)?\b|\bposition in\b", q):
        return "count"
    if re.search(r"\bwhen\b|\b(what|which|on what) (date|day|year|month)\b|когда|қашан|қай кезде", q):
        return "date"
    if re.search(r"\bwhere\b|\b(which|what) (city|cities|country|countries|region|regions|place|places|town|"
                 r"venue)\b|где|қайда|қай қала", q):  # fmt: skip
        return "place"
    if re.search(r"\bwho(m|se)?\b|\b(which|what) (\w+ )?(organi[sz]ations?|agency|agencies|company|companies|banks?|"
                 r"ministers?|ministry|ministries|person|people|officials?|band|group|partners?|bod(y|ies)|entity|"
                 r"entities|funds?|office|programme|program|initiative|project)\b|кто|кім", q):  # fmt: skip
        return "person"
    if (words_[:1] in (["list"], ["name"])) or re.search(r"\bwhat (are|were) the\b", q):
        return "list"
    return "description"


def _asks_measure(words_: list[str]) -> bool:
    """'What is the population of ...', 'what was the budget ...': a quantity, though no 'how many'."""
    return len(words_) > 3 and words_[0] in {"what", "what's"} and any(w in MEASURE_NOUNS for w in words_[1:5])


def _focus_terms(question: str) -> set[str]:
    """The relation a question asks about, which an answer must hold.

    The head of "what is the X of Y", the noun of "in X with whom", the verb of "who
    VERBed ...", the closing verb of "when/where was X VERBed": "Who organized the
    event?" is answered by the sentence that says who organized it, not by one that
    merely describes the event.
    """
    found: set[str] = set()
    for pattern in (FOCUS_OF, FOCUS_WITH_WHOM, FOCUS_WHO_VERB):
        for m in pattern.finditer(question):
            found.update(t for t in terms(m.group(1)) if t not in CUE_TERMS)
    return found


def _category_terms(question: str) -> set[str]:
    """Words an answer usually repeats, but need not: "which regional hub" (not "which city"), a closing verb."""
    found: set[str] = set()
    m = re.search(r"\b(?:which|what)\s+((?:[\w-]+\s+)?[\w-]+)", question, re.I)
    if m:
        found.update(terms(m.group(1)))
    closing = re.search(r"\b(?:when|where|which|what|whom)\b.*\s([a-z]+ed|held|made|built)\W*$", question)
    if closing:  # "... was X launched?": the event's verb, though the answer may use another
        found.update(terms(closing.group(1)))
    return found - CUE_TERMS


def _own_terms(text: str) -> list[str]:
    text = ROLE_QUESTION.sub(r" \1 ", text)  # "what position does X hold": the words ask for a title
    return [t for t in content_terms(text) if t not in CUE_TERMS]


def profile(question: str) -> Profile:
    kind = question_kind(question)
    all_terms = tuple(_own_terms(question))
    explicit = _focus_terms(question)
    pieces = [p for p in PART_SPLIT.split(question) if p.strip()] or [question]
    category = _category_terms(question)
    parts = []
    for i, piece in enumerate(pieces):
        own = _own_terms(piece)
        piece_kind = question_kind(piece)
        piece_kind = kind if piece_kind == "description" else piece_kind
        if len(own) < 2:  # "... and when?": the rest of the question says of what
            borrowed = [t for p in pieces if p is not piece for t in _own_terms(p)]
        elif i > 0 and not re.match(rf"\s*{WH}\b", piece, re.I):  # "... and at the side event": same asker
            borrowed = _own_terms(re.split(r"\s(?:at|in|on|for|from|of|with|to|during)\s", pieces[0], maxsplit=1)[0])
        else:
            borrowed = []
        part_terms = tuple(dict.fromkeys(own + borrowed)) or all_terms
        focus = explicit & set(part_terms)
        parts.append(Part(piece, piece_kind, part_terms, frozenset(focus), frozenset(category & set(part_terms))))
    plural = PLURAL_CATEGORY.search(question)
    wants_many = kind == "list" or (kind in ("person", "place") and bool(plural))
    seq = terms(question)
    definition = DEFINITION.match(question.strip())
    defines = definition.group(1).lower() if definition and kind == "description" else ""
    bigrams = frozenset(zip(seq, seq[1:]))
    return Profile(kind, all_terms, detect_language(question), tuple(parts), wants_many, bigrams, defines)


# -- entities of the asked kind ---------------------------------------------------------
def answer_entities(
    kind: str, text: str, question: str, places: frozenset[str] = frozenset(), anywhere: bool = False
) -> list[str]:
    """Entities of the asked kind in `text` that the question does not already contain.

    A figure or a date counts only near the question's own words (figures: within eight
    words of one of its common words; dates: within twelve of any of its words):
    "725 people ... returned" answers "how many people were returned", while "8 years"
    in a sentence that also mentions the population does not give the population.
    `anywhere` lifts that condition (across languages no word can match).
    """
    if kind in ("count", "share", "amount"):
        found = [f for f, pos in _figures(kind, text) if anywhere or _near(text, pos, question, 8, common=True)]
    elif kind == "date":
        found = [m.group(0) for m in DATE_RE.finditer(text) if anywhere or _near(text, m.start(), question, 12)]
    elif kind == "place":
        found = [m.group(1) for m in PLACE_RE.finditer(text) if not re.match(MONTHS, m.group(1))]
        found += KAZAKH_LOCATIVE.findall(text)
        found += [p for p in places if re.search(rf"\b{re.escape(p)}\b", text)]
    elif kind == "person":
        found = _names(text)
    elif kind == "list":
        found = _names(text)
        if _enumerates(text):
            found.append(text)
    else:
        return []
    ql = question.lower()
    return [f for f in found if f.strip().lower() not in ql]


def _enumerates(text: str) -> bool:
    return len(re.findall(r"[,;]\s|\(\d+\)", text)) >= 3


def _figures(kind: str, text: str) -> list[tuple[str, int]]:
    percents = [(m.group(0), m.start()) for m in PERCENT_RE.finditer(text)]
    if kind == "share":
        return percents
    spans = [(pos, pos + len(f)) for f, pos in percents] if kind == "count" else []
    spans += [m.span() for m in DATE_RE.finditer(text) if re.search(MONTHS, m.group(0))]
    return [
        (m.group(0), m.start())
        for m in NUMBER_RE.finditer(text)
        if not any(a <= m.start() < b for a, b in spans)
        and m.group(0).strip(",.")
        and not YEAR_RE.match(m.group(0).strip(",."))
    ]


def _near(text: str, pos: int, question: str, window: int, common: bool = False) -> bool:
    """Is one of the question's words within `window` words of position `pos`?

    With `common`, only the question's lower-case words count (names attract every figure).
    """
    raw = re.findall(r"[^\W\d_]+", question)
    picked = [w for w in raw if w.islower()] if common else raw
    focus = {stem(w) for w in picked if w.lower() not in STOPWORDS} - CUE_TERMS
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


def gazetteer(texts: Sequence[str]) -> frozenset[str]:
    """Place names the corpus itself uses after 'in', 'at', 'from' ("in Almaty", "in the Akmola region")."""
    found = set()
    for text in texts:
        for m in PLACE_RE.finditer(text):
            name = m.group(1)
            if not re.match(MONTHS, name) and name.lower() not in STOPWORDS and len(name) > 3:
                found.add(name.split()[0] if name.split()[-1].lower() in {"region", "regions"} else name)
    return frozenset(found)


# -- sentence selection -----------------------------------------------------------------
@dataclass
class Candidate:
    ev: Evidence
    sentence: Sentence
    context_terms: frozenset[str]
    own_terms: frozenset[str]
    meta_terms: frozenset[str]  # facts from the story's metadata (its year)
    bigrams: frozenset[tuple[str, str]]
    story_terms: frozenset[str] = frozenset()  # every term of the story: what the question says to place it
    score: float = 0.0
    coverage: float = 0.0
    typed: bool = False


@lru_cache(maxsize=4096)
def _story_sentences(story_id: str, text: str) -> tuple[Sentence, ...]:
    return tuple(split_sentences(text))


@lru_cache(maxsize=4096)
def _story_terms(story_id: str, text: str) -> frozenset[str]:
    return frozenset(terms(text))


def candidates(evidence: Sequence[Evidence]) -> list[Candidate]:
    seen: set[tuple[str, int]] = set()
    out = []
    for ev in evidence:
        story = ev.story
        sentences = _story_sentences(story.story_id, story.text)
        title_terms = set(terms(story.title))
        meta = frozenset({story.date[:4]} if story.date else set())
        whole = _story_terms(story.story_id, story.text) | title_terms
        previous: Sentence | None = None
        for s in sentences:
            inside = ev.chunk.start <= s.start < ev.chunk.end
            if inside and (story.story_id, s.start) not in seen and _is_prose(s.text):
                seen.add((story.story_id, s.start))
                context = title_terms | (set(terms(previous.text)) if previous else set())
                seq = terms(s.text)
                pairs = frozenset(zip(seq, seq[1:]))
                out.append(Candidate(ev, s, frozenset(context), frozenset(seq), meta, pairs, story_terms=whole))
            previous = s
    return out


def _is_prose(text: str) -> bool:
    """A sentence, not a heading, link, photo credit or list of names."""
    n = len(text.split())
    ends = text.rstrip().endswith((".", "!", "?", "…", '"', "”", "’", ")", "»", ":"))
    words_ = text.split()
    title_case = sum(w[:1].isupper() for w in words_) > 0.5 * n
    finished = ends or (n >= 12 and not title_case) or bool(re.search(r"[.!?]\s", text))  # maybe with debris
    return n >= 5 and finished and not JUNK_LINE.search(text) and any(c.islower() for c in text)


@dataclass
class Reading:
    """How well each candidate answers one part of the question."""

    part: Part
    scored: list[Candidate]  # copies of the candidates, best first


STORY_WEIGHT = 0.3  # a question term found elsewhere in the sentence's story: it places the story, not the fact


def score_part(
    cands: list[Candidate],
    part: Part,
    prof: Profile,
    question: str,
    weights: dict[str, float],
    dense: np.ndarray | None,
    places: frozenset[str],
    known_terms: frozenset[str] | set[str] = frozenset(),
) -> Reading:
    def w(t: str) -> float:
        return weights.get(t, 1.0) * (2.0 if t in part.focus or t in part.category else 1.0)

    total = sum(w(t) for t in part.terms) or 1.0
    weights_known = known_terms
    ctx_weight = 0.8 if part.kind == "list" else 0.5
    scored = []
    for i, base in enumerate(cands):
        c = Candidate(**{f: getattr(base, f) for f in base.__dataclass_fields__})
        has = c.own_terms | c.meta_terms
        own = sum(w(t) for t in part.terms if t in has)
        ctx = sum(w(t) for t in part.terms if t not in has and t in c.context_terms)
        rest = sum(w(t) for t in part.terms if t not in has and t not in c.context_terms and t in c.story_terms)
        c.coverage = (own + ctx_weight * ctx + STORY_WEIGHT * rest) / total
        required = {t for t in part.focus if t in weights_known}
        if required and not required & has:
            c.coverage *= 0.7
        if dense is not None:
            c.coverage = max(c.coverage, float(np.clip((dense[i] - 0.74) / 0.08, 0.0, 1.0)))
        c.typed = part.kind == "description" or bool(
            answer_entities(part.kind, c.sentence.text, part.text, places, anywhere=dense is not None)
        )
        phrase = len(prof.bigrams & c.bigrams) / len(prof.bigrams) if prof.bigrams else 0.0
        prior = 1.0 / (c.ev.rank or 1) ** 0.5
        lead = 0.08 if c.sentence.start < 400 else 0.0  # news puts the key fact first
        voice = -0.08 if FIRST_PERSON.search(c.sentence.text) else 0.0  # quoted speech restates, vaguely
        named = len(_names(c.sentence.text)) if part.kind in ("person", "list") else 0
        c.score = c.coverage + (0.35 if c.typed else 0.0) + 0.2 * phrase + 0.1 * prior + lead + voice
        c.score += 0.03 * min(named, 3)  # of two equal sentences, the one naming more people says more
        if prof.defines and _defines(c.sentence.text, prof.defines):
            c.score += 0.3  # "what is X?" wants the sentence that says what X is
        scored.append(c)
    scored.sort(key=lambda c: (-c.score, c.ev.rank, c.sentence.start))
    return Reading(part, scored)


def _defines(sentence: str, name: str) -> bool:
    """Does the sentence say what `name` is ("X is ...", "also known as X", "X (the ...)")?"""
    s = sentence.lower()
    n = re.escape(name)
    return bool(
        re.search(rf"\b(?:known as|called|stands for|named)\s+(?:the\s+)?{n}\b", s)
        or re.search(rf"\b{n}\b[^.,;]{{0,40}}?\s(?:is|are|was|were|aims|seeks)\s", s)
        or re.search(rf"\b{n}\s*\(", s)
    )


def term_weights(prof: Profile, idf: dict[str, float]) -> dict[str, float]:
    """Rare terms matter most; a word the corpus never uses weighs as a common one (it may be a paraphrase)."""
    known = sorted(v for t, v in idf.items() if "_" not in t)
    common = known[len(known) // 4] if known else 1.0  # most words here are rare; a quarter are commoner
    return {t: idf.get(t, common) for t in {t for p in prof.parts for t in p.terms} | set(prof.terms)}


def answers(c: Candidate, cross_lingual: bool) -> bool:
    """The pipeline's abstention rule for one part: enough of the question, and a fact of the asked kind."""
    return c.coverage >= (0.35 if cross_lingual else 0.5) and c.typed


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


def clause_for(
    c: Candidate, kind: str, part_terms: Sequence[str], question: str, places=frozenset(), cross: bool = False
) -> tuple[int, int]:
    """The shortest run of the sentence's clauses that keeps the answer, if the sentence is long.

    Across languages no clause can be matched to the question, so the sentence stays whole.
    """
    s = c.sentence
    if cross:
        return s.start, s.end
    many = kind in ("person", "place", "list")
    limit = 400 if many else LONG_SENTENCE
    crowded = kind in ("count", "share", "amount", "date") and len(answer_entities(kind, s.text, "", places, True)) >= 3
    if len(s.text) <= limit and not crowded:
        return s.start, s.end
    seps = list(re.finditer(r"[,;:–—]\s+|\s+(?:and|while|but|which|whereas)\s+", s.text))
    starts = [0] + [m.end() for m in seps]
    ends = [m.start() for m in seps] + [len(s.text)]
    wanted = set(part_terms)
    best, best_key = (0, len(s.text)), None
    for i in range(len(starts)):
        if inside_quotes(s.text[: starts[i]], within=120):
            continue  # never open a quote in the middle of a quoted name
        for j in range(i, len(ends)):
            piece = s.text[starts[i] : ends[j]]
            if len(piece) > limit and j > i:
                break
            found = answer_entities(kind, piece, question, places, True)
            if crowded and len(found) > 3:
                continue
            typed = bool(found) or kind == "description"
            key = (typed, len(set(terms(piece)) & wanted), min(len(found), 3) if many else 0, -len(piece))
            if best_key is None or key > best_key:
                best, best_key = (starts[i], ends[j]), key
    a, b = best
    a += len(s.text[a:b]) - len(s.text[a:b].lstrip())
    b = a + len(s.text[a:b].rstrip(" ,;:–—"))
    return s.start + a, s.start + b


def numbers_in(text: str) -> set[str]:
    return {re.sub(r"[^\d.]", "", m.group(0)).strip(".") for m in re.finditer(r"\d[\d,.]*", text)} - {""}


def compose(
    readings: list[Reading], prof: Profile, question: str, cross: bool, rarest: str, places
) -> tuple[list[Pick], bool]:
    """The clauses to answer with (one per answered part, more for lists), and whether stories disagree."""
    picks: list[Pick] = []

    def add(c: Candidate, kind: str, part_terms) -> Pick | None:
        a, b = clause_for(c, kind, part_terms, question, places, cross)
        if any(p.story.story_id == c.ev.story.story_id and p.start <= a < p.end for p in picks):
            return None
        pick = Pick(c, a, b)
        picks.append(pick)
        return pick

    for reading in readings:
        best = reading.scored[0]
        if answers(best, cross):
            add(best, reading.part.kind, reading.part.terms)
    if not picks:
        return [], False
    first = readings[0]
    if len(readings) == 1 and first.part.kind in ("count", "share", "amount"):
        rival = _rival_figure(first.scored, picks[0], first.part, question, rarest, places)
        if rival:
            picks.append(rival)
            return picks, True
    if prof.wants_many:
        _add_more_entities(first, picks, add, question, places)
    elif len(readings) == 1:
        _add_uncovered(first, prof, picks, add)
    return picks, False


def _add_more_entities(reading: Reading, picks: list[Pick], add, question: str, places) -> None:
    """For 'which regions ...': further sentences that name entities the answer lacks."""
    best = reading.scored[0]
    for c in reading.scored[1:]:
        if len(picks) >= 3 or sum(len(p.text) for p in picks) > MAX_ANSWER_CHARS - 200:
            break
        if not (c.typed and c.coverage >= 0.6 * best.coverage and c.score >= 0.6 * best.score):
            continue
        shown = " ".join(p.text for p in picks).lower()
        new = [
            e for e in answer_entities(reading.part.kind, c.sentence.text, question, places) if e.lower() not in shown
        ]
        if new:
            add(c, reading.part.kind, reading.part.terms)


def _add_uncovered(reading: Reading, prof: Profile, picks: list[Pick], add) -> None:
    """A second sentence only when it holds a large share of the question the first lacks."""
    best = reading.scored[0]
    covered = set(best.own_terms) | best.context_terms
    for c in reading.scored[1:4]:
        new = [t for t in reading.part.terms if t in c.own_terms and t not in covered]
        gain = len(new) / max(len(reading.part.terms), 1)
        if c.typed and gain >= 0.34 and c.score >= 0.6 * best.score:
            add(c, reading.part.kind, reading.part.terms)
            return


def _rival_figure(ranked: list[Candidate], first: Pick, part: Part, question: str, rarest: str, places) -> Pick | None:
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
        pick = Pick(c, *clause_for(c, part.kind, part.terms, question, places))
        theirs = numbers_in(pick.text)
        if theirs and not (theirs & mine):
            return pick
    return None


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

    def __init__(self, embedder, idf: dict[str, float], story_texts: Sequence[str] = ()) -> None:
        self.embedder = embedder
        self.idf = idf
        self.places = gazetteer(story_texts)
        self.known = frozenset(t for t in idf if "_" not in t)
        self._vectors: dict[tuple[str, int], np.ndarray] = {}  # sentence vectors, computed on first need

    def read(self, question: str, evidence: Sequence[Evidence], query_vector=None):
        """(text, citations, abstained, disagreement)."""
        prof = profile(question)
        cands = candidates(evidence)
        if not cands:
            return ABSTAIN_TEXT, [], True, False
        cross = prof.language != "en" and any(c.ev.story.language != prof.language for c in cands)
        if not cross and self.unknown_names(question):
            return ABSTAIN_TEXT, [], True, False
        dense = self._dense(cands, question, query_vector) if cross else None
        weights = term_weights(prof, self.idf)
        readings = [
            score_part(cands, part, prof, question, weights, dense, self.places, self.known) for part in prof.parts
        ]
        rarest = max(prof.terms, key=lambda t: weights.get(t, 0.0), default="")
        picks, disagreement = compose(readings, prof, question, cross, rarest, self.places)
        if not picks:
            return ABSTAIN_TEXT, [], True, False
        text, citations = cite(picks)
        if disagreement:
            text = "The stories give different figures. " + text
        return text, citations, False, disagreement

    def unknown_names(self, question: str) -> list[str]:
        """Names in the question that no story uses at all ("France", "FIFA"): nothing here can be about them."""
        tokens = words(question)
        names = [w for i, w in enumerate(tokens) if i > 0 and w[0].isupper() and w.lower() not in STOPWORDS]
        return [w for w in names if stem(w) not in self.idf]

    def _dense(self, cands: list[Candidate], question: str, query_vector) -> np.ndarray:
        """Sentence similarity across languages, for the sentences of the best passages only.

        Embedding a sentence costs ~15 ms here, so only the top CROSS_PASSAGES passages'
        sentences are embedded (each once per process); the rest score 0.
        """
        q = query_vector if query_vector is not None else self.embedder.query(question)
        wanted = [i for i, c in enumerate(cands) if c.ev.rank <= CROSS_PASSAGES]
        missing = [
            cands[i] for i in wanted if (cands[i].ev.story.story_id, cands[i].sentence.start) not in self._vectors
        ]
        if missing:
            for c, v in zip(missing, self.embedder.passages([c.sentence.text for c in missing]), strict=True):
                self._vectors[(c.ev.story.story_id, c.sentence.start)] = v
        sims = np.zeros(len(cands), dtype=np.float32)
        for i in wanted:
            sims[i] = float(self._vectors[(cands[i].ev.story.story_id, cands[i].sentence.start)] @ q)
        return sims


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
