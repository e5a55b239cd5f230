"""What an answer is: its text, whether it abstained, and a citation per quoted sentence.

Plain dataclasses with no heavy imports, shared by the reader, the LLM path, the CLI,
the web UI and the eval harness.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

__all__ = ["ABSTAIN_TEXT", "MAX_ANSWER_CHARS", "Answer", "Citation", "Generation"]

MAX_ANSWER_CHARS = 600
ABSTAIN_TEXT = "The stories don't say. I found nothing in them that answers this question."


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
        data = asdict(self)
        data["first_token_ms"] = round(self.first_token_ms, 1)
        data["last_token_ms"] = round(self.last_token_ms, 1)
        return data


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
    confidence: float | None = None  # the reader's probability that the evidence answers the question
    short_answer: str = ""  # the name, date or figure the answer opens with, when the reader is sure of it
    generation: Generation | None = None  # set when the LLM was asked to write the answer

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
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "short_answer": self.short_answer,
            "generation": None if self.generation is None else self.generation.as_dict(),
        }
