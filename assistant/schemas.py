"""The shapes the assistant's machine doors (the HTTP API and the MCP tools) speak, as pydantic models.

`AskResult` is the `assistant ask --json` shape; the functions here turn the pipeline's
`Answer`, `Story` and retrieval results into these shapes, so every door agrees on them.
"""

from __future__ import annotations

from typing import Literal, cast

from pydantic import BaseModel, Field

from .config import Settings
from .inputs import check_language, checked_filters, clean_question, parse_date_bound
from .results import Answer
from .retrieve import Filters
from .sources import origin_of
from .stories import Story

__all__ = [
    "AskResult",
    "CitationOut",
    "SearchHit",
    "SearchResult",
    "StoryOut",
    "StoryText",
    "ask_result",
    "request_filters",
    "search_stories",
    "story_out",
    "story_text",
]

Origin = Literal["corpus", "upload", "folder"]


class CitationOut(BaseModel):
    """One `[n]` of an answer: the story and the exact sentence (`quote` = story text[start:end])."""

    n: int
    story_id: str
    title: str
    date: str | None = Field(description="ISO date of the story, or null when it gives none")
    kind: str
    language: str
    source: str
    origin: Origin = Field(description="corpus (bundled), upload (through the web UI) or folder (`ingest PATH`)")
    quote: str
    start: int
    end: int


class AskResult(BaseModel):
    """An answer: the `assistant ask --json` shape."""

    question: str
    search_query: str = Field(description="what was searched for (a follow-up is rewritten to stand alone)")
    answer: str = Field(description="the reply, each claim followed by its [n]")
    abstained: bool = Field(description="true when the stories do not answer the question")
    citations: list[CitationOut]
    backend: str = Field(description="`offline` (the offline reader) or the LLM's model name")
    latency_ms: float
    notice: str | None = Field(None, description="e.g. the LLM failed and the offline reader answered")


class StoryOut(BaseModel):
    """A story in the index, without its text."""

    story_id: str
    title: str
    date: str | None
    kind: str
    language: str
    source: str
    origin: Origin
    translation_of: str = ""


class StoryText(StoryOut):
    """A whole story; citations' `start`/`end` index into `text`."""

    text: str


class SearchHit(BaseModel):
    """A story that matches a search, with its best matching passage."""

    rank: int
    story_id: str
    title: str
    date: str | None
    kind: str
    language: str
    origin: Origin
    score: float
    passage: str


class SearchResult(BaseModel):
    """The stories that best match a search query, best first."""

    query: str
    stories: list[SearchHit]


def ask_result(answer: Answer, settings: Settings) -> AskResult:
    """An answer in the API's shape, which is the CLI's `ask --json` shape."""
    from .cli import answer_json  # the one definition of the `ask --json` shape

    return AskResult.model_validate(answer_json(answer, settings))


def story_out(story: Story, settings: Settings) -> StoryOut:
    """A story's listing entry, with where it came from (corpus, upload or folder)."""
    fields = {k: v for k, v in story.as_dict().items() if k in StoryOut.model_fields}
    return StoryOut(**fields, origin=cast(Origin, origin_of(story.source, settings)))


def story_text(story: Story, settings: Settings) -> StoryText:
    """A story's listing entry with its whole text."""
    return StoryText(**story_out(story, settings).model_dump(), text=story.text)


def request_filters(settings: Settings, since: str = "", until: str = "", language: str = "") -> Filters:
    """A request's filters over the settings' own; unreadable ones raise `InvalidFilterError` naming the field."""
    return checked_filters(
        Filters.from_settings(
            settings,
            parse_date_bound(since or "", end=False, label="since date"),
            parse_date_bound(until or "", end=True, label="until date"),
            check_language(language or "", label="language"),
        )
    )


def search_stories(assistant, query: str, filters: Filters, limit: int) -> SearchResult:
    """The `limit` stories that best match `query` (hybrid BM25 + vector retrieval), each with its best passage."""
    settings = assistant.settings
    query, _ = clean_question(query, settings.retrieval.max_question_chars)
    retrieval = assistant.retriever.search(query, filters, top_k=limit, per_story=1)
    hits: dict[str, SearchHit] = {}
    for ev in retrieval.evidence:
        s = ev.story
        if s.story_id in hits or len(hits) == limit:
            continue
        hits[s.story_id] = SearchHit(
            rank=len(hits) + 1,
            story_id=s.story_id,
            title=s.title,
            date=s.date,
            kind=s.kind,
            language=s.language,
            origin=cast(Origin, origin_of(s.source, settings)),
            score=round(ev.score, 5),
            passage=ev.chunk.text,
        )
    return SearchResult(query=query, stories=list(hits.values()))
