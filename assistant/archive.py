"""Questions about the archive as a whole: counts, lists, timelines and the latest figure.

"How many stories mention UNICEF?", "List the stories from June 2023", "What has the UN
done on land degradation, in order?" and "What is the most recent figure for ...?" are not
answered by the top-k passages of a search: the answer depends on every story. This stage
scans every story's title and text (and its kind and date), so a count is a count of the
whole archive, a list is complete, a timeline is in date order and "the latest" is the
newest story that gives the figure. Each story found is cited once; a translation counts
with its original; the answer says how it was found ("2 of the 17 stories mention ...").

A question is recognised by its general form only: "how many / which / list / show me"
followed by a word for stories ("stories", "press releases", "publications", "articles"),
"in order / timeline / chronological / over time", or "latest / most recent / newest"
followed by a word for a figure ("figure", "number", "estimate", "share"). Nothing here
names a topic or a question. What is left once the form, the kind of story and the dates
are taken out is the topic: its runs of content words ("land degradation") and of
capitalised names ("Ministry of Foreign Affairs") are matched against each story's words
with the same stemming as retrieval. Any other question returns None and goes to the reader.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from .chunks import split_sentences
from .dates import MONTH_WORD_PATTERN
from .display import count
from .errors import AssistantError
from .inputs import parse_date_bound
from .results import Citation
from .stories import Story
from .text import STOPWORDS, stem, words

__all__ = [
    "FORMS",
    "Archive",
    "ArchiveQuestion",
    "ArchiveReply",
    "Segment",
    "parse_archive_question",
]

FORMS = ("count", "list", "timeline", "latest")
UBIQUITOUS = 0.5  # an actor whose every word is in at least this share of stories does not narrow the search
WINDOW_SLACK = 1  # a run's words may sit this many other words apart in a sentence ("land is degraded")
LATEST_MIN_COVERAGE = 0.6  # share of the topic's (idf-weighted) words a figure's sentence and story must hold
NEAR, ELSEWHERE = 0.5, 0.25  # credit for a topic word in a neighbouring sentence or the title / elsewhere in the story
QUOTE_MIN_WORDS = 8  # a story's lead sentence for a list: the first at least this long (not a photo caption)

# -- the forms of archive questions ----------------------------------------------------------------
_KIND_WORDS = [  # (pattern, kind or "" for every kind, singular, plural)
    (r"press[\s-]+releases?", "Press Release", "press release", "press releases"),
    (r"publications?", "Publication", "publication", "publications"),
    (r"(?:news\s+)?stor(?:y|ies)|articles?|news(?:\s+items?)?", "", "story", "stories"),
]
NOUN = r"\b(?:" + "|".join(p for p, *_ in _KIND_WORDS) + r")\b(?!\s*\d)"  # not "Article 12"
_AUXILIARY = r"(?:did|does|do|has|have|had|will|would|can|could|should|may|might|must)\b"
_SOME_WORDS = rf"(?:(?!{_AUXILIARY})[\w'’-]+\s+){{0,2}}?"  # "which UN stories", not "what did ... article"
TIMELINE = re.compile(
    r"\btime[\s-]?lines?\b|\bchronolog\w*|\bin\s+(?:chronological\s+|date\s+|time\s+)?order\b(?!\s+(?:to|for|that)\b)"
    r"|\bover\s+time\b|\bfrom\s+(?:the\s+)?(?:oldest|earliest|first)\s+to\s+(?:the\s+)?"
    r"(?:newest|latest|last|most\s+recent)\b|\boldest\s+first\b|\byear\s+by\s+year\b",
    re.I,
)
LATEST = re.compile(
    r"\b(?:latest|most\s+recent|newest|most\s+up[\s-]to[\s-]date|last\s+reported|current|up[\s-]to[\s-]date)\s+"
    r"(?:(?:available|known|reported|official|published)\s+)?"
    r"(?:figures?|numbers?|counts?|totals?|estimates?|data|statistics?|stats|shares?|percentages?|proportions?|"
    r"rates?|amounts?|values?|tall(?:y|ies))\b(?:\s+(?:of|for|on|about|regarding|in|from))?"
    r"|\baccording\s+to\s+the\s+(?:latest|most\s+recent|newest)\s+(?:stor(?:y|ies)|figures?|data|reports?)\b",
    re.I,
)
COUNT = re.compile(
    rf"\bhow\s+many\s+{_SOME_WORDS}{NOUN}|\b(?:number|count|total)\s+of\s+{_SOME_WORDS}{NOUN}|^\s*count\s+{_SOME_WORDS}{NOUN}",
    re.I,
)
LIST = re.compile(
    rf"^\W*(?:(?:and|so|ok|okay|please|now)\W+)?(?:which|what(?:['’]s)?)\s+(?:(?:is|are|were|was)\s+)?{_SOME_WORDS}{NOUN}"
    rf"|\b(?:list|show|find|give|name|get|fetch|display|tell)\s+(?:me\s+|us\s+)?(?:(?:all|the|every|any|each|of)\s+)*"
    rf"{_SOME_WORDS}{NOUN}"
    rf"|^\W*(?:are|were|is)\s+there\s+(?:any\s+)?{_SOME_WORDS}{NOUN}"
    rf"|^\W*(?:(?:all|the|any)\s+)*{NOUN}\s+(?:about|on|from|mentioning|that|which|with|in|dated|published|regarding|"
    r"concerning)\b",
    re.I,
)
ONE_KIND = r"(?:press[\s-]+release|publication|story|article)"
NEWEST_ONE = re.compile(rf"\b(?:latest|most\s+recent|newest|last)\s+(?:{ONE_KIND}|news)\b(?!s)", re.I)
OLDEST_ONE = re.compile(rf"\b(?:first|earliest|oldest)\s+{ONE_KIND}\b(?!s)", re.I)

# -- dates in the question ---------------------------------------------------------------------------
_DATE = (
    rf"(?:\d{{1,2}}\s+{MONTH_WORD_PATTERN},?\s+(?:19|20)\d\d|{MONTH_WORD_PATTERN}\s+\d{{1,2}},?\s+(?:19|20)\d\d|{MONTH_WORD_PATTERN},?\s+(?:19|20)\d\d"
    r"|(?:19|20)\d\d[-/.]\d{1,2}(?:[-/.]\d{1,2})?|(?:19|20)\d\d)"
)
DATE_PHRASE = re.compile(
    rf"\b(?P<op>between|from|since|after|before|until|till|prior\s+to|up\s+to|in|during|of|dated|on)\s+"
    rf"(?:the\s+year\s+)?(?P<a>{_DATE})(?:\s*(?:and|to|until|till|-|–)\s*(?P<b>{_DATE}))?(?![\w-])",
    re.I,
)

LANGUAGE_PHRASE = re.compile(
    r"\b(?:(?:written|published)\s+)?in\s+(?:the\s+)?(?P<language>english|kazakh|russian)(?:\s+language)?"
    r"(?=\s*(?:[?.!,;]|$|\b(?:and|from|since|before|after|dated|published|about|on|that|which|mentioning)\b))",
    re.I,
)
LANGUAGE_CODES = {"english": "en", "kazakh": "kk", "russian": "ru"}

# -- what is not topic ------------------------------------------------------------------------------
FRAME_WORDS = frozenset(
    """
    mention mentions mentioned mentioning about regarding concerning concern concerns related relating relate
    relates cover covers covered covering discuss discusses discussed discussing feature features featured featuring
    involve involves involved involving talk talks talking speak speaks speaking write writes written wrote focus
    focuses focused focusing deal deals dealing touch touches touching refer refers referring reference references
    referenced referencing include includes included including contain contains containing appear appears appeared
    cite cites cited citing publish published released release issued issue came come comes out exist exists there
    done happen happened happening happens reported say said says tell told show shown find get fetch display list
    give me us please thanks thank you kindly archive collection corpus database dataset site website word words term
    terms phrase name names named story stories article articles news item items post posts piece pieces entry entries
    press releases publication publications figure figures number numbers count counts total totals estimate estimates
    data statistic statistics stats share shares percentage percentages proportion proportions rate rates amount
    amounts value values tally latest recent newest oldest earliest first last current date dated order chronological
    chronologically timeline timelines time times year years sequence far ever already yet altogether overall both
    what's who's where's how's that's there's it's work works activities activity efforts effort involvement
    engagement role developments history things anything something everything
    """.split()
)
JOINERS = frozenset({"of", "for", "the", "on", "de", "in"})  # inside a name ("Ministry of Foreign Affairs"); not "and"


@dataclass(frozen=True)
class Segment:
    """A run of topic words as typed ("land degradation", "Ministry of Foreign Affairs") and their stems."""

    text: str
    terms: tuple[str, ...]
    actor: bool = False  # it comes before the topic ("what has the UN done on X"): who acted, not what about


@dataclass(frozen=True)
class ArchiveQuestion:
    """What an archive question asks: its form, the kinds and dates of story, and the topic."""

    form: str  # one of FORMS
    kinds: tuple[str, ...] = ()  # story kinds asked about; () = every kind
    noun: tuple[str, str] = ("story", "stories")  # how to name them (singular, plural)
    date_from: str = ""
    date_to: str = ""
    segments: tuple[Segment, ...] = ()
    topic: str = ""  # the topic as typed, for the answer ("people living in extreme poverty")
    limit: int = 0  # 1 for "the latest story about X" / "the first press release on X"
    oldest_first: bool = False
    language: str = ""  # "stories in Kazakh": only stories in that language
    any_of: bool = False  # "UNICEF or UNDP": a story needs one of the topic's runs, not all


@dataclass
class ArchiveReply:
    """The archive's answer, composed here (never by an LLM), with one citation per story."""

    text: str
    citations: list[Citation]
    abstained: bool
    form: str
    short_answer: str = ""
    retrieved: list[dict] = field(default_factory=list)


# -- reading the question -----------------------------------------------------------------------------
def parse_archive_question(question: str) -> ArchiveQuestion | None:
    """The archive question `question` asks, or None when it is not one (the reader answers it)."""
    q = " ".join(question.split())
    form, span = _form_of(q)
    if form is None:
        return None
    removed = [span]
    kinds, noun = _kinds_of(q, removed)
    date_from, date_to = _dates_of(q, form, removed)
    language = _language_of(q, removed) if form != "latest" else ""
    rest = _blank(q, removed)
    segments = _with_actors(_segments(rest), rest)
    limit, oldest_first = _one_of(q) if form == "list" else (0, False)
    topic = _surface(rest, segments)
    any_of = len(segments) > 1 and bool(re.search(r"\bor\b", rest, re.I))
    return ArchiveQuestion(
        form, kinds, noun, date_from, date_to, segments, topic, limit, oldest_first, language, any_of
    )


def _kinds_of(q: str, removed: list[tuple[int, int]]) -> tuple[tuple[str, ...], tuple[str, str]]:
    """The kinds of story the question names ("press releases") and its noun, singular and plural.

    Each noun's span is added to `removed`.
    """
    kinds: tuple[str, ...] = ()
    noun = ("story", "stories")
    for m in re.finditer(NOUN, q, re.I):
        for pattern, kind, singular, plural in _KIND_WORDS:
            if re.fullmatch(pattern, m.group(0), re.I):
                if kind and kind not in kinds:
                    kinds += (kind,)
                    noun = (singular, plural)
                break
        removed.append(m.span())
    return kinds, noun


def _dates_of(q: str, form: str, removed: list[tuple[int, int]]) -> tuple[str, str]:
    """(date_from, date_to) the question's date phrases allow together, '' for open; their spans go to `removed`."""
    date_from = date_to = ""
    for m in DATE_PHRASE.finditer(q):
        if form == "latest":  # dates in a figure question belong to the figure ("poverty in 2030")
            removed.append(m.span())
            continue
        bounds = _date_bounds(m)
        if bounds is None:
            continue
        date_from, date_to = max(date_from, bounds[0]), min(date_to or "9999", bounds[1])
        removed.append(m.span())
    return date_from, "" if date_to == "9999" else date_to


def _language_of(q: str, removed: list[tuple[int, int]]) -> str:
    """The language code the question asks for ("in Kazakh"), the last one named; its spans go to `removed`."""
    language = ""
    for m in LANGUAGE_PHRASE.finditer(q):
        language = LANGUAGE_CODES[m["language"].lower()]
        removed.append(m.span())
    return language


def _one_of(q: str) -> tuple[int, bool]:
    """(limit, oldest_first) of a list question: one story for "the latest story" or "the first story"."""
    if NEWEST_ONE.search(q):
        return 1, False
    if OLDEST_ONE.search(q):
        return 1, True
    return 0, False


def _form_of(q: str) -> tuple[str | None, tuple[int, int]]:
    for form, pattern in (("timeline", TIMELINE), ("latest", LATEST), ("count", COUNT), ("list", LIST)):
        m = pattern.search(q)
        if m:
            return form, m.span()
    return None, (0, 0)


def _date_bounds(m: re.Match) -> tuple[str, str] | None:
    """(first day, last day) a date phrase allows, '' for open; None when it is not a date after all."""
    op = " ".join(m["op"].lower().split())
    try:
        a_start = parse_date_bound(_plain_date(m["a"]), end=False)
        a_end = parse_date_bound(_plain_date(m["a"]), end=True)
        b_end = parse_date_bound(_plain_date(m["b"]), end=True) if m["b"] else ""
    except AssistantError:
        return None
    if b_end:
        return a_start, b_end
    if op in ("since",):
        return a_start, ""
    if op == "after":
        return (date.fromisoformat(a_end) + timedelta(days=1)).isoformat(), ""
    if op in ("before", "prior to"):
        return "", (date.fromisoformat(a_start) - timedelta(days=1)).isoformat()
    if op in ("until", "till", "up to"):
        return "", a_end
    return a_start, a_end


def _plain_date(text: str) -> str:
    return re.sub(r"(?<=[a-z])\.", "", " ".join(text.split()), flags=re.I)


def _blank(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """`text` with each span replaced by spaces (offsets kept, so surface text can still be cut from it)."""
    chars = list(text)
    for a, b in spans:
        chars[a:b] = " " * (b - a)
    return "".join(chars)


def _is_name(word: str) -> bool:
    return word[:1].isupper() or (len(word) > 1 and sum(c.isupper() for c in word) >= 2)


_Token = tuple[str, int, int]  # a word and its offsets in the question


def _joins_names(text: str, tokens: Sequence[_Token], i: int, current: Sequence[_Token]) -> bool:
    """Whether joiner `tokens[i]` links two names, so stays in the run ("Ministry of Water Resources")."""
    w, _, b = tokens[i]
    if w.lower() not in JOINERS or not current or not _is_name(current[-1][0]):
        return False
    nxt = next((t for t in tokens[i + 1 :] if t[0].lower() not in JOINERS), None)
    if nxt is None:
        return False
    return _is_name(nxt[0]) and nxt[0].lower() not in FRAME_WORDS and "," not in text[b : nxt[1]]


def _segments(text: str) -> list[Segment]:
    """Runs of topic words: content words in a row, and capitalised names across 'of', 'for', 'the', 'on', 'in'."""
    tokens = [(m.group(0), m.start(), m.end()) for m in re.finditer(r"[^\W_]+(?:['’][^\W_]+)*", text)]
    runs: list[list[_Token]] = []
    current: list[_Token] = []
    for i, (w, a, b) in enumerate(tokens):
        lw = w.lower()
        breaks = lw in STOPWORDS or lw in FRAME_WORDS
        if breaks and _joins_names(text, tokens, i, current):
            current.append((w, a, b))
            continue
        if breaks or (current and "," in text[current[-1][2] : a]):
            if current:
                runs.append(current)
            current = [] if breaks else [(w, a, b)]
            continue
        current.append((w, a, b))
        nxt = tokens[i + 1][0] if i + 1 < len(tokens) else ""
        if re.search(r"['’]s$", w, re.I) and nxt[:1].islower():  # "Kazakhstan's cooperation": owner, then thing
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    out = []
    for run in runs:
        while run and run[-1][0].lower() in JOINERS:
            run = run[:-1]
        content = [w for w, _, _ in run if w.lower() not in JOINERS]
        if not content:
            continue
        terms = tuple(dict.fromkeys(stem(w) for w in content))
        out.append(Segment(text[run[0][1] : run[-1][2]], terms))
    return out


TOPIC_MARKER = re.compile(
    r"\b(?:about|on|regarding|concerning|mention\w*|with|for|in|involving|related\s+to|"
    r"covering|featuring)\b",
    re.I,
)


def _with_actors(segments: list[Segment], rest: str) -> tuple[Segment, ...]:
    """Mark the runs before the last topic marker as actors when a run follows it.

    "the UN" in "what has the UN done on land degradation", "Kazakhstan's" in "Kazakhstan's cooperation with UNDP".
    """
    markers = [m.start() for m in TOPIC_MARKER.finditer(rest)]
    if not markers or len(segments) < 2:
        return tuple(segments)
    at, out, pos = markers[-1], [], 0
    after = [rest.find(s.text, pos) for s in segments]
    if not any(a > at for a in after):
        return tuple(segments)
    for seg in segments:
        start = rest.find(seg.text, pos)
        pos = max(pos, start + len(seg.text))
        out.append(replace(seg, actor=0 <= start < at))
    return tuple(out)


def _surface(rest: str, segments: Sequence[Segment]) -> str:
    if not segments:
        return ""
    start = rest.find(segments[0].text)
    end = rest.rfind(segments[-1].text) + len(segments[-1].text)
    return " ".join(rest[start:end].split()) if 0 <= start < end else " and ".join(s.text for s in segments)


# -- the archive ----------------------------------------------------------------------------------
@dataclass
class _Sentence:
    start: int
    end: int
    text: str
    words: list[str]  # every word, in order (figures and their neighbours are found on these)
    seq: list[str]  # stems of the words that are not stopwords, in order


@dataclass
class _Doc:
    story: Story
    group: str  # the story a translation translates, else the story itself
    title_seq: list[str]
    sentences: list[_Sentence]
    terms: set[str]


@dataclass
class _Found:
    doc: _Doc
    sentence: _Sentence | None  # the sentence quoted for it
    score: float = 0.0
    figure: str = ""


class Archive:
    """Every story of the index, read once (on the first archive question) for corpus-wide questions."""

    def __init__(self, stories: Mapping[str, Story]) -> None:
        self.stories = stories
        self._docs: list[_Doc] | None = None
        self._df: dict[str, int] = {}

    # -- the scan --------------------------------------------------------------------------------------
    @property
    def docs(self) -> list[_Doc]:
        """Every story read into sentences and terms, with the document frequencies, on first use."""
        if self._docs is None:
            docs = [self._read(s) for s in self.stories.values()]
            df: dict[str, int] = {}
            for d in docs:
                for t in d.terms:
                    df[t] = df.get(t, 0) + 1
            self._docs, self._df = docs, df
        return self._docs

    def _read(self, story: Story) -> _Doc:
        sentences = []
        for s in split_sentences(story.text):
            ws = words(s.text)
            sentences.append(_Sentence(s.start, s.end, s.text, ws, _seq(ws)))
        title_seq = _seq(words(story.title))
        group = story.translation_of if story.translation_of in self.stories else story.story_id
        terms = set(title_seq).union(*(s.seq for s in sentences)) if sentences else set(title_seq)
        return _Doc(story, group, title_seq, sentences, terms)

    # -- answering -------------------------------------------------------------------------------------
    def answer(self, question: str, date_from: str = "", date_to: str = "", language: str = "") -> ArchiveReply | None:
        """The archive's answer to `question`, or None when it is no archive question (or no figure was found).

        `date_from`, `date_to` (ISO) and `language` are the caller's filters; the question's own
        dates narrow them further.
        """
        ask = parse_archive_question(question)
        if ask is None:
            return None
        lo, hi = max(date_from, ask.date_from), min(date_to or "9999", ask.date_to or "9999")
        hi = "" if hi == "9999" else hi
        asked_language = ask.language or language
        if language and ask.language and language != ask.language:
            asked_language = "none"  # the filter and the question disagree: no story is in both languages
        admitted = [d for d in self.docs if _admits(d.story, ask.kinds, lo, hi, asked_language)]
        if ask.form == "latest":
            return self._latest(ask, admitted)
        everything = {d.group for d in self.docs if _admits(d.story, (), date_from, date_to, language)}
        return self._scan(ask, admitted, len(everything))

    def _scan(self, ask: ArchiveQuestion, admitted: list[_Doc], archive_total: int) -> ArchiveReply:
        segments, missing = self._narrowing(ask.segments)
        levels = [self._level(seg) for seg in segments]
        groups: dict[str, list[_Found]] = {}
        for d in admitted:
            groups.setdefault(d.group, [])
            found = _match(d, segments, levels, ask.any_of)
            if found is not None:
                groups[d.group].append(found)
        hits = [self._representative(found) for found in groups.values() if found]
        hits.sort(key=lambda f: (f.doc.story.date or "", f.doc.story.title), reverse=not _chronological(ask))
        if ask.form == "timeline":  # undated stories go last either way
            hits.sort(key=lambda f: f.doc.story.date is None)
        shown = hits[: ask.limit] if ask.limit else hits
        citations = [_citation(i, f) for i, f in enumerate(shown, 1)]
        summary = _summary(ask, segments, levels, len(hits), len(groups), archive_total)
        if ask.form != "count":
            summary = summary[:-1] + (_order_words(ask) if hits else "")
        lines = [summary, *(f"- {c.date or 'undated'} — {c.title} ({c.kind}) [{c.n}]" for c in citations)]
        if missing:
            names = " or ".join(f"“{s.text}”" for s in missing)
            lines.append(f"(No story mentions {names}, so {'it was' if len(missing) == 1 else 'they were'} left out.)")
        lines.append(self._how())
        retrieved = [_row(i, f) for i, f in enumerate(shown, 1)]
        return ArchiveReply("\n".join(lines), citations, not hits and ask.form != "count", ask.form, "", retrieved)

    def _narrowing(self, segments: Sequence[Segment]) -> tuple[list[Segment], list[Segment]]:
        """The topic runs that narrow the search, and those left out because no story holds them.

        An actor that nearly every story holds ("the UN" in UN stories) does not narrow anything and
        is dropped; so is a run that no story holds, when another run is found (the answer says so).
        """
        n = max(len(self.docs), 1)
        kept = [s for s in segments if not s.actor or any(self._df.get(t, 0) / n < UBIQUITOUS for t in s.terms)]
        found = [s for s in kept if self._level(s) < 3]
        if not found:
            return kept, []
        return found, [s for s in kept if s not in found]

    def _level(self, seg: Segment) -> int:
        """How closely a run's words must sit: 0 together, 1 in one sentence, 2 in one story (3: nowhere)."""
        for level in range(3):
            if any(_holds(d, seg, level) for d in self.docs):
                return level
        return 3

    @staticmethod
    def _representative(found: list[_Found]) -> _Found:
        """The one story of a translation group to cite: the original when it matches, else the first found."""
        return next((f for f in found if not f.doc.story.translation_of), found[0])

    def _how(self) -> str:
        stories = count(len(self.docs), "story", "stories")
        linked = any(d.group != d.story.story_id for d in self.docs)
        note = "; a translation counts with its original" if linked else ""
        return (
            f"(Found by reading all {stories} in the archive, titles and text, not only what a search returns{note}.)"
        )

    # -- the latest figure -------------------------------------------------------------------------------
    def _latest(self, ask: ArchiveQuestion, admitted: list[_Doc]) -> ArchiveReply | None:
        terms = list(dict.fromkeys(t for s in ask.segments for t in s.terms))
        if not terms:
            return None
        n = max(len(self.docs), 1)
        weight = {t: math.log(1 + n / self._df[t]) if self._df.get(t) else 1.0 for t in terms}
        owned = [s for s in ask.segments if not re.search(r"['’]s$", s.text)]  # "Kazakhstan's land": land is counted
        head = set((owned or ask.segments)[0].terms)
        found: dict[str, _Found] = {}
        for d in admitted:
            if not d.story.date:
                continue  # an undated story cannot say "as of"
            best = _best_figure(d, weight, head)
            kept = found.get(d.group)
            if best is not None and (
                kept is None or (best.doc.story.date, best.score) > (kept.doc.story.date, kept.score)
            ):
                found[d.group] = best
        if not found:
            return None
        ranked = sorted(found.values(), key=lambda f: (f.doc.story.date, f.score), reverse=True)
        newest = ranked[0]
        cite = _citation(1, newest)
        others = len(ranked) - 1
        which = f"the newest of {len(ranked)} stories that give" if others else "the only story that gives"
        text = (
            f"{newest.figure} — as of {newest.doc.story.date}, {which} a figure for “{ask.topic}”: "
            f"{_as_sentence(cite.quote)} [1]"
        )
        if others:
            older = f"{count(others, 'older story', 'older stories')} {'gives' if others == 1 else 'give'} one too"
            text += f"\n(Found by reading every story; {older}.)"
        else:
            text += "\n(Found by reading every story; no other story gives a figure for it.)"
        retrieved = [_row(i, f) for i, f in enumerate(ranked, 1)]
        return ArchiveReply(text, [cite], False, "latest", newest.figure, retrieved)


def _summary(ask: ArchiveQuestion, segments, levels, k: int, scope: int, archive_total: int) -> str:
    """The count sentence: '2 of the 17 stories mention “UNICEF”.' or '5 of the 17 stories ... dated 2023.'."""
    singular, plural = ask.noun
    dates = _language_words(ask.language) + _date_words(ask.date_from, ask.date_to)
    if segments:
        what = (" or " if ask.any_of else " and ").join(f"“{s.text}”" for s in segments)
        how = {1: " (as words in one sentence, not as a phrase)", 2: " (as words anywhere in the story)"}
        loose = how.get(max(levels), "")
        verb = "mentions" if k == 1 else "mention"
        return f"{k} of the {scope} {singular if scope == 1 else plural}{dates} {verb} {what}{loose}."
    stories = count(archive_total, "story", "stories").split(" ", 1)[1]
    if ask.kinds:
        kind = f"{_article(singular)} {singular}" if k == 1 else plural
        return f"{k} of the {archive_total} {stories} in the archive {_are(k)} {kind}{dates}."
    if dates:
        return f"{k} of the {archive_total} {stories} in the archive {_are(k)}{dates}."
    return f"The archive holds {count(k, 'story', 'stories')}."


def _order_words(ask: ArchiveQuestion) -> str:
    if ask.limit:
        return f"; the {'oldest' if ask.oldest_first else 'newest'}:"
    return "; oldest first:" if _chronological(ask) else "; newest first:"


# -- matching --------------------------------------------------------------------------------------
def _seq(ws: Sequence[str]) -> list[str]:
    return [stem(w) for w in ws if w.lower() not in STOPWORDS]


def _admits(story: Story, kinds: tuple[str, ...], lo: str, hi: str, language: str) -> bool:
    if kinds and story.kind not in kinds:
        return False
    when = story.date or ""
    if (lo or hi) and not when:
        return False
    if lo and when < lo:
        return False
    if hi and when > hi:
        return False
    return not language or story.language == language


def _together(seq: Sequence[str], terms: Sequence[str]) -> bool:
    """Whether all `terms` occur, in any order, within a window of len(terms) + WINDOW_SLACK words of `seq`."""
    need = set(terms)
    width = len(need) + WINDOW_SLACK
    return any(w in need and need <= set(seq[i : i + width]) for i, w in enumerate(seq))


def _holds(d: _Doc, seg: Segment, level: int) -> bool:
    if level == 2:
        return set(seg.terms) <= d.terms
    if not set(seg.terms) <= d.terms:
        return False
    if level == 1:
        return any(set(seg.terms) <= set(seq) for seq in [d.title_seq, *(s.seq for s in d.sentences)])
    return any(_together(seq, seg.terms) for seq in [d.title_seq, *(s.seq for s in d.sentences)])


def _sentence_holds(seq: Sequence[str], seg: Segment, level: int) -> bool:
    return _together(seq, seg.terms) if level == 0 else bool(set(seg.terms) & set(seq))


def _match(d: _Doc, segments: Sequence[Segment], levels: Sequence[int], any_of: bool = False) -> _Found | None:
    """The story as found (with the sentence to quote), or None when it misses a topic run (all of them, `any_of`)."""
    held = [level < 3 and _holds(d, seg, level) for seg, level in zip(segments, levels, strict=True)]
    if segments and not (any(held) if any_of else all(held)):
        return None
    if not segments:
        return _Found(d, _lead(d))
    best, best_score = None, 0
    for s in d.sentences:
        score = sum(_sentence_holds(s.seq, seg, level) for seg, level in zip(segments, levels, strict=True))
        if score > best_score:
            best, best_score = s, score
    return _Found(d, best or _lead(d), float(best_score))


def _lead(d: _Doc) -> _Sentence | None:
    return next((s for s in d.sentences if len(s.words) >= QUOTE_MIN_WORDS), d.sentences[0] if d.sentences else None)


FIGURE = re.compile(
    r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?:\s?(%|per\s?cent\b|percent\b|million\b|billion\b|thousand\b|"
    r"trillion\b))?",
    re.I,
)
MONTH_WORD = re.compile(rf"^{MONTH_WORD_PATTERN}$", re.I)  # matched against `words`, which hold no full stop


def figures(text: str) -> list[tuple[str, int, int]]:
    """(figure, start, end) in `text`: numbers with their unit, not years ("in 2030") and not days ("27 June")."""
    out = []
    for m in FIGURE.finditer(text):
        number, unit = m.group(1), m.group(2)
        if not unit and re.fullmatch(r"(19|20)\d\d", number):
            continue
        before, after = words(text[: m.start()])[-1:], words(text[m.end() :])[:1]
        if not unit and any(MONTH_WORD.match(w) for w in before + after):
            continue
        out.append((m.group(0), m.start(), m.end()))
    return out


def _best_figure(d: _Doc, weight: dict[str, float], head: set[str]) -> _Found | None:
    """The story's sentence that gives a figure for the topic, or None when no sentence holds enough of its words.

    A sentence with a figure qualifies when it, its neighbours and its story hold at least
    LATEST_MIN_COVERAGE of the topic's idf-weighted words (a word in the sentence counts fully,
    one beside it or in the title NEAR, one elsewhere in the story ELSEWHERE). Of those, one whose
    figure is followed by the topic's first word ("200 projects") is preferred, then coverage.
    """
    total = sum(weight.values())
    best: tuple | None = None
    title = set(d.title_seq)
    for i, s in enumerate(d.sentences):
        found = figures(s.text)
        if not found:
            continue
        near = title.union(
            d.sentences[i - 1].seq if i else [], d.sentences[i + 1].seq if i + 1 < len(d.sentences) else []
        )
        here = set(s.seq)
        covered = sum(
            w * (1.0 if t in here else NEAR if t in near else ELSEWHERE if t in d.terms else 0.0)
            for t, w in weight.items()
        )
        coverage = covered / total if total else 0.0
        if coverage < LATEST_MIN_COVERAGE:
            continue
        heads, figure = _figure_in(s.text, found, weight, head)
        key = (heads, coverage, -i)
        if best is None or key > best[0]:
            best = (key, s, coverage, figure)
    if best is None:
        return None
    _, sentence, coverage, figure = best
    return _Found(d, sentence, coverage, figure)


def _figure_in(
    text: str, found: list[tuple[str, int, int]], weight: dict[str, float], head: set[str]
) -> tuple[bool, str]:
    """The figure a sentence gives for the topic.

    One followed by the topic's head word ("200 projects"), else the one nearest the topic's words (each word's
    weight divided by 1 + its distance in words).
    """
    scored = []
    for fig, a, b in found:
        before, after = [stem(w) for w in words(text[:a])], [stem(w) for w in words(text[b:])]
        following = next((t for t, w in zip(after, words(text[b:]), strict=True) if w.lower() not in STOPWORDS), "")
        nearness = 0.0
        for t, w in weight.items():
            distances = [len(before) - i for i, x in enumerate(before) if x == t] + [
                i + 1 for i, x in enumerate(after) if x == t
            ]
            nearness += w / (1 + min(distances)) if distances else 0.0
        scored.append((following in head, nearness, -a, fig))
    best = max(scored)
    return best[0], best[3].strip()


# -- composing -------------------------------------------------------------------------------------
def _chronological(ask: ArchiveQuestion) -> bool:
    return ask.form == "timeline" or ask.oldest_first


def _citation(n: int, f: _Found) -> Citation:
    s = f.doc.story
    quote = f.sentence or _Sentence(0, len(s.text), s.text, [], [])
    return Citation(n, s.story_id, s.title, s.date, s.kind, s.language, s.source, quote.text, quote.start, quote.end)


def _row(rank: int, f: _Found) -> dict:
    s = f.doc.story
    return {"rank": rank, "story_id": s.story_id, "title": s.title, "score": round(f.score, 5)}


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _are(k: int) -> str:
    return "is" if k == 1 else "are"


def _as_sentence(text: str) -> str:
    text = " ".join(text.split()).strip().strip('“”"')
    return text if text.endswith((".", "!", "?", "…")) else text + "."


def _language_words(code: str) -> str:
    names = {"en": "English", "kk": "Kazakh", "ru": "Russian"}
    return f" in {names[code]}" if code in names else ""


def _date_words(lo: str, hi: str, bare: bool = False) -> str:
    """' dated June 2023', ' dated 2016', ' dated 2023-06-01 or later' ('' when open); `bare` drops 'dated'."""
    lead = " " if bare else " dated "
    if lo and hi:
        a, b = date.fromisoformat(lo), date.fromisoformat(hi)
        if (a.month, a.day, b.month, b.day) == (1, 1, 12, 31) and a.year == b.year:
            return f"{lead}{a.year}"
        if a.day == 1 and (a.year, a.month) == (b.year, b.month) and (b + timedelta(days=1)).day == 1:
            return f"{lead}{a.strftime('%B %Y')}"
        return f"{lead}{lo} to {hi}"
    if lo:
        return f"{lead}{lo} or later"
    if hi:
        return f"{lead}{hi} or earlier"
    return ""
