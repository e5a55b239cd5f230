"""What an answer is: its text, whether it abstained, and a citation per quoted sentence.

Plain dataclasses with no heavy imports, shared by the reader, the LLM path, the CLI,
the web UI and the eval harness.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

__all__ = ["ABSTAIN_TEXT", "MAX_ANSWER_CHARS", "Answer", "Citation"]

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
        }
