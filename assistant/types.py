"""What the stages hand each other: stories, chunks, evidence, answers and stream events.

Small dataclasses and the standard library only, so the CLI, the API schemas, tests and
anyone who just wants `Answer` can import them without loading numpy, llama-index or
Chroma. Every stage imports its inputs and outputs from here:

    stories: Story -> chunks: Chunk -> store: StoredChunk, Snapshot
    -> retrieve: Filters, DateHint, Evidence, Retrieval -> reader / llm: Answer, Citation, Generation
    -> pipeline.Assistant.stream: Delta ... Final
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import Settings

__all__ = [
    "ABSTAIN_TEXT",
    "MAX_ANSWER_CHARS",
    "Answer",
    "Chunk",
    "Citation",
    "DateHint",
    "Delta",
    "Event",
    "Evidence",
    "Filters",
    "Final",
    "Generation",
    "Retrieval",
    "Snapshot",
    "StoredChunk",
    "Story",
    "date_int",
]

MAX_ANSWER_CHARS = 600
ABSTAIN_TEXT = "The stories don't say. I found nothing in them that answers this question."


# -- stories and chunks -------------------------------------------------------------------
@dataclass(frozen=True)
class Story:
    """One story and where it came from."""

    story_id: str
    title: str
    date: str | None  # ISO YYYY-MM-DD; None when the source gives none
    kind: str
    language: str  # "en", "kk", "ru"
    source: str  # file name as given to the parser
    text: str  # the body, verbatim
    start: int  # offset of `text` in the source file
    end: int
    site: str = ""
    translation_of: str = ""  # story_id of the story this one translates
    extra: dict = field(default_factory=dict, compare=False)

    def as_dict(self) -> dict:
        """Every field by name (`extra` included): what the API's story schema and edited copies are built from."""
        return asdict(self)


@dataclass(frozen=True)
class Chunk:
    """A run of whole sentences of one story, small enough to embed."""

    chunk_id: str
    story_id: str
    index: int
    start: int  # offsets in the story text
    end: int
    text: str


@dataclass(frozen=True)
class StoredChunk:
    """A chunk as the index holds it, with its story."""

    chunk: Chunk
    story: Story


@dataclass
class Snapshot:
    """Everything retrieval needs, read once from the store."""

    stories: dict[str, Story]
    chunks: list[StoredChunk]
    last_ingest: str

    def chunk_by_id(self) -> dict[str, StoredChunk]:
        """The chunks keyed by chunk id, for turning dense search hits (ids) back into chunks."""
        return {c.chunk.chunk_id: c for c in self.chunks}


def date_int(iso: str | None) -> int:
    """An ISO date as the YYYYMMDD integer the index filters on; 0 when undated."""
    return int(iso.replace("-", "")) if iso else 0


# -- retrieval ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Filters:
    """Hard limits on which stories may be evidence."""

    date_from: str = ""
    date_to: str = ""
    language: str = ""
    story_ids: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings, date_from: str = "", date_to: str = "", language: str = "") -> Filters:
        """The given limits (already checked), each falling back to the settings' own (DATE_FROM, ...)."""
        r = settings.retrieval
        return cls(date_from or r.date_from, date_to or r.date_to, language or r.language)

    def admits(self, c: StoredChunk) -> bool:
        """Whether the chunk's story passes every limit; a date limit shuts out undated stories."""
        d = date_int(c.story.date)
        if self.date_from and (d == 0 or d < date_int(self.date_from)):
            return False
        if self.date_to and (d == 0 or d > date_int(self.date_to)):
            return False
        if self.language and c.story.language != self.language:
            return False
        return not self.story_ids or c.story.story_id in self.story_ids


@dataclass(frozen=True)
class DateHint:
    """A soft preference read from the question: a date window, or recency."""

    start: date | None = None
    end: date | None = None
    recent: bool = False

    def describe(self) -> str:
        """The preference in words for the answer's notice; '' when the question gives none."""
        if self.start and self.end:
            return f"stories from {self.start.isoformat()} to {self.end.isoformat()} preferred"
        return "most recent stories preferred" if self.recent else ""


@dataclass
class Evidence:
    """One retrieved chunk with how it was found."""

    item: StoredChunk
    score: float
    dense: float = 0.0
    bm25: float = 0.0
    rank: int = 0

    @property
    def story(self) -> Story:
        """The story the chunk belongs to."""
        return self.item.story

    @property
    def chunk(self) -> Chunk:
        """The retrieved passage itself."""
        return self.item.chunk


@dataclass
class Retrieval:
    """The evidence for one query, and what shaped it."""

    query: str  # what was searched (condensed follow-up)
    evidence: list[Evidence]
    date_hint: DateHint = field(default_factory=DateHint)
    query_vector: Any = None  # the query's embedding (a numpy vector), which the reader reuses


# -- answers ------------------------------------------------------------------------------
@dataclass
class Citation:
    """One quoted sentence of a story, numbered as the answer's [n] marks it."""

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
        """Every field by name: a citation as the JSON outputs show it."""
        return asdict(self)


@dataclass
class Generation:
    """What the LLM did for one answer: speed, failure or refusal, and what the citation check changed."""

    model: str
    failed: str = ""  # why its answer was replaced by the offline reader's
    abstained: bool = False  # it said the stories don't say
    tokens: int = 0  # streamed pieces (llama.cpp's server sends one token a piece)
    first_token_ms: float = 0.0  # from the request to the first piece
    last_token_ms: float = 0.0  # from the request to the last piece
    markers_written: int = 0  # [n] markers in its reply
    markers_valid: int = 0  # of those, naming a passage it was given
    dropped: int = 0  # markers the check removed
    moved: int = 0  # sentences the check re-pointed to the passage that holds them
    attached: int = 0  # unmarked sentences the check matched to a passage
    uncited: int = 0  # sentences left without a citation

    def as_dict(self) -> dict:
        """Every field by name, the token times rounded to 0.1 ms (finer is noise)."""
        data = asdict(self)
        data["first_token_ms"] = round(self.first_token_ms, 1)
        data["last_token_ms"] = round(self.last_token_ms, 1)
        return data


@dataclass
class Answer:
    """An answer: its text, whether it abstained, a citation per quoted sentence, and how it was found."""

    question: str
    search_query: str
    text: str
    abstained: bool
    citations: list[Citation]
    backend: str
    latency_ms: float = 0.0
    notice: str = ""
    retrieved: list[dict] = field(default_factory=list)
    confidence: float | None = None  # the reader's probability that the evidence answers the question
    short_answer: str = ""  # the name, date or figure the answer opens with, when the reader is sure of it
    generation: Generation | None = None  # set when the LLM was asked to write the answer

    def as_dict(self) -> dict:
        """The answer as the JSON outputs give it: `text` as "answer", times and confidence rounded."""
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
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "short_answer": self.short_answer,
            "generation": None if self.generation is None else self.generation.as_dict(),
        }


# -- stream events ------------------------------------------------------------------------
@dataclass(frozen=True)
class Delta:
    """A piece of the reply while an LLM writes it (shown live; the final text may differ after checking)."""

    text: str


@dataclass(frozen=True)
class Final:
    """The checked answer; always the last event of a stream."""

    answer: Answer


Event = Delta | Final
