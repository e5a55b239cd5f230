"""The `Assistant`: question -> (condense) -> retrieve -> read or generate -> checked answer.

The same object serves the CLI, the web UI and the eval harness, so what the eval
measures is what users get. Questions about the archive as a whole (how many, which,
in order, the latest figure) are answered by `archive` from every story instead.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import prompts
from .archive import Archive, ArchiveReply
from .chunks import Sentence
from .citations import CheckedReply, check_citations
from .config import Settings, load_settings
from .embeddings import Embedder, make_embedder
from .errors import IndexMissingError, LLMError
from .features import story_sentences
from .inputs import checked_filters, clean_question
from .reader import OfflineReader
from .results import Citation
from .retrieve import HybridRetriever, cache_folder, condense, load_index
from .sentence_vectors import SentenceVectors
from .store import IngestProgress, IngestReport, StoryStore
from .types import (
    ABSTAIN_TEXT,
    Answer,
    Chunk,
    Delta,
    Event,
    Evidence,
    Filters,
    Final,
    Generation,
    Snapshot,
    StoredChunk,
)

if TYPE_CHECKING:
    from .llm import ChatModel

__all__ = ["NO_ANSWER_MARK", "Assistant", "with_quoted_sentences"]

NO_ANSWER_MARK = "stories don't say"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Loaded:
    """What answering reads, built together from one generation of the index, so they always agree."""

    generation: str
    retriever: HybridRetriever
    reader: OfflineReader
    archive: Archive


class Assistant:
    """Ask questions of the ingested stories. Build with `Assistant.from_settings()`."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        store: StoryStore,
        chat: ChatModel | None,
        default_answerer: str = "llm",
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self.chat = chat
        # who answers when the caller does not choose: "llm", or "offline" (no LLM, or ANSWERER=offline)
        self.default_answerer = default_answerer if chat is not None else "offline"
        self._lock = threading.Lock()
        self._loaded: _Loaded | None = None

    @classmethod
    def from_settings(cls, settings: Settings | None = None, chat: ChatModel | None = None) -> Assistant:
        """The assistant the settings describe; `chat`, when given, answers instead of the configured LLM.

        The LLM client (the openai package, 0.5 s of imports) is loaded only when one is
        configured or handed in.
        """
        from .llm import make_chat_model

        settings = settings or load_settings()
        embedder = make_embedder(settings)
        store = StoryStore(settings, embedder)
        if chat is not None:  # a model handed in answers unless the caller picks the reader
            return cls(settings, embedder, store, chat)
        default = "offline" if settings.llm.answerer == "offline" else "llm"
        return cls(settings, embedder, store, make_chat_model(settings.llm), default)

    # -- index ------------------------------------------------------------------------
    @property
    def retriever(self) -> HybridRetriever:
        """The retriever over the index as it is now (loaded on first use, reloaded after another ingest)."""
        return self._current().retriever

    @property
    def reader(self) -> OfflineReader:
        """The offline reader over the current index, its stories' sentence vectors prepared."""
        return self._current().reader

    def _current(self) -> _Loaded:
        """The retriever, reader and archive of the index's current generation, loading them when needed."""
        with self._lock:
            self._reload_if_newer()
            if self._loaded is None:
                self._loaded = self._load()
            return self._loaded

    def _reload_if_newer(self) -> None:
        """Another process ingested (or removed stories) since we loaded: reconnect and load again.

        The check reads one small file beside the index (a metadata call in server mode),
        so it runs before every answer.
        """
        if self._loaded is not None and self.store.generation() != self._loaded.generation:
            log.info("the index has a new generation; reloading it")
            self.store = self.store.reopened()
            self._loaded = None

    def _load(self) -> _Loaded:
        generation = self.store.generation()
        index = load_index(self.store, self.settings)
        stories = index.snapshot.stories.values()
        reader = OfflineReader(self.embedder, index.idf, [s.text for s in stories], sentences=self._sentence_vectors())
        began = time.perf_counter()
        if added := reader.prepare(stories):
            log.info("embedded %d new sentences for the reader in %.1f s", added, time.perf_counter() - began)
        return _Loaded(
            generation,
            HybridRetriever.over(index, self.store, self.settings),
            reader,
            Archive(index.snapshot.stories),
        )

    def _sentence_vectors(self) -> SentenceVectors:
        """The reader's sentence vectors, in a file beside the index named after the embedder."""
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.embedder.name)
        return SentenceVectors(self.embedder, cache_folder(self.settings) / f"sentences-{name}.pickle")

    @property
    def snapshot(self) -> Snapshot:
        """The stories and chunks the retriever searches (the index as of its last load)."""
        return self.retriever.snapshot

    def ingest(
        self,
        paths: Sequence[Path] | None = None,
        rebuild: bool = False,
        progress: Callable[[IngestProgress], None] | None = None,
    ) -> IngestReport:
        """Ingest `paths` (default: the bundled corpus), then load the new index so the next question is quick.

        The report's `seconds` include that load; `progress` hears after each story embedded.
        """
        report = self.store.ingest(list(paths or [self.settings.paths.corpus_dir]), rebuild=rebuild, progress=progress)
        began = time.perf_counter()
        with self._lock:
            self._loaded = None
            if report.stories_added or report.stories_removed:
                with contextlib.suppress(IndexMissingError):
                    self._loaded = self._load()  # builds the retrieval cache now, so the first question is quick
        report.seconds += time.perf_counter() - began
        return report

    # -- asking -----------------------------------------------------------------------
    def ask(
        self,
        question: str,
        *,
        history: Sequence[dict] = (),
        filters: Filters | None = None,
        top_k: int | None = None,
        answerer: str | None = None,
    ) -> Answer:
        """The checked answer to `question` (see `stream` for the options)."""
        events = self.stream(question, history=history, filters=filters, top_k=top_k, answerer=answerer)
        return next(event.answer for event in events if isinstance(event, Final))

    def stream(
        self,
        question: str,
        *,
        history: Sequence[dict] = (),
        filters: Filters | None = None,
        top_k: int | None = None,
        answerer: str | None = None,
    ) -> Iterator[Event]:
        """`Delta`s while an LLM writes, then one `Final` with the checked answer.

        `history`: earlier turns ({"role", "content"}) a follow-up leans on; `filters`: hard
        limits (default: the settings'); `top_k`: passages given to the answerer;
        `answerer`: "offline" or "llm" (default: the assistant's `default_answerer`).
        """
        began = time.perf_counter()
        question, notice = self._validated(question)
        filters = checked_filters(filters or Filters.from_settings(self.settings))
        loaded = self._current()
        chat = self._chat_for(answerer)
        search_query = self._condense(question, history, chat)
        archived = loaded.archive.answer(search_query, filters.date_from, filters.date_to, filters.language)
        if archived is not None:  # a question about the whole archive: answered from every story, never by the LLM
            yield Final(_archive_answer(question, search_query, archived, notice, began))
            return
        retrieval = loaded.retriever.search_turn(search_query, question, history, filters, top_k)
        reply = loaded.reader.read(search_query, retrieval.evidence, retrieval.query_vector)
        text, citations, abstained, short = reply.text, reply.citations, reply.abstained, reply.short_answer
        backend = "offline"
        generation = None
        if chat is not None and not abstained:
            given = with_quoted_sentences(retrieval.evidence, citations)
            generation = Generation(chat.name)
            asked = time.perf_counter()
            try:
                pieces: list[str] = []
                for piece in chat.stream(self._messages(question, given)):
                    generation.last_token_ms = (time.perf_counter() - asked) * 1000
                    generation.first_token_ms = generation.first_token_ms or generation.last_token_ms
                    pieces.append(piece)
                    yield Delta(piece)
                generation.tokens = len(pieces)
                generated = "".join(pieces).strip()
                if NO_ANSWER_MARK in generated.lower() or not generated:
                    text, citations, abstained = ABSTAIN_TEXT, [], True
                    generation.abstained = True
                else:
                    check = check_citations(generated, given)
                    text, citations = check.text, check.citations
                    _record_check(generation, check)
                short = ""
                backend = chat.name
            except LLMError as err:
                generation.failed = str(err)
                notice = _join(notice, f"The LLM ({chat.name}) failed: {err}. This answer is from the offline reader.")
        answer = Answer(
            question=question,
            search_query=search_query,
            text=text,
            abstained=abstained,
            citations=citations,
            backend=backend,
            latency_ms=(time.perf_counter() - began) * 1000,
            notice=_join(notice, retrieval.date_hint.describe()),
            retrieved=[_retrieved_row(ev) for ev in retrieval.evidence],
            confidence=reply.confidence,
            short_answer=short,
            generation=generation,
        )
        yield Final(answer)

    def _validated(self, question: str) -> tuple[str, str]:
        return clean_question(question, self.settings.retrieval.max_question_chars)

    def _chat_for(self, answerer: str | None) -> ChatModel | None:
        if (answerer or self.default_answerer) == "offline":
            return None
        return self.chat

    def _condense(self, question: str, history: Sequence[dict], chat: ChatModel | None) -> str:
        if not history:
            return question
        if chat is not None:
            lines = "\n".join(f"{m.get('role')}: {m.get('content')}" for m in history[-6:])
            try:
                prompt = prompts.render("condense", history=lines, question=question)
                reply = "".join(chat.stream([{"role": "user", "content": prompt}])).strip()
                if 0 < len(reply) <= 3 * len(question) + 200:
                    return reply.splitlines()[0].strip()
            except LLMError:
                pass
        return condense(question, history)

    @staticmethod
    def _messages(question: str, evidence: Sequence[Evidence]) -> list[dict]:
        passages = "\n\n".join(
            prompts.render(
                "passage",
                n=i,
                title=prompts.fence(ev.story.title),
                kind=ev.story.kind,
                date=ev.story.date or "undated",
                text=prompts.fence(ev.chunk.text),
            )
            for i, ev in enumerate(evidence, 1)
        )
        return [
            {"role": "system", "content": prompts.render("system")},
            {"role": "user", "content": prompts.render("answer", passages=passages, question=question)},
        ]


def with_quoted_sentences(evidence: Sequence[Evidence], citations: Sequence[Citation]) -> list[Evidence]:
    """The evidence, then one passage for each sentence the offline reader quoted from outside it.

    The reader reads a short best story whole (`features.WHOLE_STORY`), so its confidence may rest on a
    sentence no retrieved passage holds; the LLM is given that sentence too, as a passage of its own,
    and its citations are checked against it like any other. The passage is the whole sentence, not the
    quote: a sentence over `reader.LONG_SENTENCE` characters is quoted by its answering clauses only.
    Two quotes from one sentence give one passage; a quote from a story not in the evidence gives none.
    """
    given = list(evidence)
    stories = {ev.story.story_id: ev.story for ev in evidence}
    for c in citations:
        story = stories.get(c.story_id)
        held = any(ev.story.story_id == c.story_id and ev.chunk.start <= c.start < ev.chunk.end for ev in given)
        if story is None or held:
            continue
        whole = story_sentences(story.story_id, story.text)
        sentence = next((s for s in whole if s.start <= c.start < s.end), Sentence(c.start, c.end, c.quote))
        chunk = Chunk(
            f"{c.story_id}:quoted:{sentence.start}", c.story_id, -1, sentence.start, sentence.end, sentence.text
        )
        given.append(Evidence(StoredChunk(chunk, story), score=0.0, rank=len(given) + 1))
    return given


def _archive_answer(question: str, search_query: str, reply: ArchiveReply, notice: str, began: float) -> Answer:
    return Answer(
        question=question,
        search_query=search_query,
        text=reply.text,
        abstained=reply.abstained,
        citations=reply.citations,
        backend="archive",
        latency_ms=(time.perf_counter() - began) * 1000,
        notice=notice,
        retrieved=reply.retrieved,
        short_answer=reply.short_answer,
    )


def _retrieved_row(ev: Evidence) -> dict:
    return {"rank": ev.rank, "story_id": ev.story.story_id, "title": ev.story.title, "score": round(ev.score, 5)}


def _record_check(generation: Generation, check: CheckedReply) -> None:
    for name in ("markers_written", "markers_valid", "dropped", "moved", "attached"):
        setattr(generation, name, getattr(check, name))
    generation.uncited = len(check.uncited)


def _join(a: str, b: str) -> str:
    return " ".join(x for x in (a, b) if x)
