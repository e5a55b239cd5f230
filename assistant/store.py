"""Chunks -> Chroma, and back out as a snapshot for retrieval.

Two collections: `<prefix>_chunks` (one vector per chunk, through llama-index's
`ChromaVectorStore`) and `<prefix>_stories` (one record per story: its full text and a
mean vector). Embedded `PersistentClient` by default; `HttpClient` when CHROMA_HOST is set.

Ingest is idempotent and incremental: a file whose bytes are unchanged is skipped, a
changed file replaces only its own stories, a file gone from an ingested folder takes
its stories with it. A story record is written only after all its chunks, and chunks
without a story record are swept up at the next ingest, so a killed ingest recovers by
simply running again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from .chunks import chunk_story, embedding_text
from .config import Settings
from .display import count
from .embeddings import Embedder
from .errors import AssistantError, IndexCorruptError, IndexMissingError, StoreUnavailableError, UnreadableFileError
from .sources import origin_of, read_story_file, scan_files, source_name, source_path
from .stories import link_translations, parse_text
from .types import Chunk, Filters, Snapshot, StoredChunk, Story, date_int

if TYPE_CHECKING:
    from llama_index.core.schema import BaseNode, TextNode
    from llama_index.core.vector_stores.types import MetadataFilters

__all__ = [
    "MARKS_FILE",
    "SCHEMA_VERSION",
    "ChromaServer",
    "EmbeddedChroma",
    "IngestProgress",
    "IngestReport",
    "StoryStore",
    "build_filters",
    "chroma_filters",
    "connect",
]

log = logging.getLogger(__name__)
SCHEMA_VERSION = 1
MARKS_FILE = "assistant-index.json"  # beside Chroma's files: generation and recorded sources
SQLITE_HEADER = b"SQLite format 3\x00"


@dataclass
class IngestReport:
    """What one ingest did: files seen and left as they were, stories added and removed, files skipped and why."""

    files_seen: int = 0
    files_unchanged: int = 0
    stories_added: int = 0
    stories_removed: int = 0
    chunks_added: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        """The report for a person: one line of counts and time, then a line per skipped file with its reason."""
        text = (
            f"{count(self.files_seen, 'file')}: {self.files_unchanged} unchanged, "
            f"{count(self.stories_added, 'story', 'stories')} added ({count(self.chunks_added, 'chunk')}), "
            f"{self.stories_removed} removed, in {self.seconds:.1f}s"
        )
        for path, reason in self.skipped:
            text += f"\n  skipped {path}: {reason}"
        return text


@dataclass
class FilePlan:
    """A new or changed file: its stories, each with its chunks, ready to embed."""

    source: str
    digest: str
    stories: list[tuple[Story, list[Chunk]]]

    @property
    def chunk_count(self) -> int:
        """The chunks this file's stories will add, for the progress line's total."""
        return sum(len(chunks) for _, chunks in self.stories)


@dataclass
class IngestProgress:
    """How far an ingest is: stories and chunks embedded of those planned, the rate, the time left."""

    stories_total: int
    chunks_total: int
    stories_done: int = 0
    chunks_done: int = 0
    current: str = ""
    started: float = field(default_factory=time.perf_counter)

    def advance(self, source: str, chunks: int) -> None:
        """Count one more story embedded, with its chunks, from `source`."""
        self.stories_done += 1
        self.chunks_done += chunks
        self.current = source

    @property
    def rate(self) -> float:
        """Chunks embedded per second so far."""
        elapsed = time.perf_counter() - self.started
        return self.chunks_done / elapsed if elapsed > 0 else 0.0

    @property
    def seconds_left(self) -> float:
        """Seconds the chunks still to embed will take at the rate so far; 0 before the first is done."""
        return (self.chunks_total - self.chunks_done) / self.rate if self.rate else 0.0

    def __str__(self) -> str:
        """The progress line: stories and chunks done of planned, the rate, and the time left or 'done'."""
        done = self.stories_done == self.stories_total
        left = "done" if done else f"about {_duration(self.seconds_left)} left"
        return (
            f"{self.stories_done}/{count(self.stories_total, 'story', 'stories')}, "
            f"{self.chunks_done}/{count(self.chunks_total, 'chunk')}, {self.rate:.1f} chunks/s, {left}"
        )


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds} s" if seconds < 90 else f"{seconds // 60} min {seconds % 60:02d} s"


class Chroma(Protocol):
    """Where the index lives: an embedded Chroma folder or a Chroma server, chosen once by `connect`."""

    where: str  # how messages name it
    local: bool  # True when this process reads the index files itself (its vectors may be searched in memory)

    def client(self, create: bool) -> Any:
        """The chromadb client; `create=False` on a missing embedded index raises `IndexMissingError`."""
        ...

    def failure(self, err: Exception) -> AssistantError:
        """The error a failed Chroma call means here: a broken index, or a server that is away."""
        ...

    def drop(self, names: Sequence[str]) -> None:
        """Remove both collections (`ingest --rebuild`), even from an index too broken to open."""
        ...

    def read_marks(self, stories_collection: str) -> dict:
        """The marks `write_marks` left ({} when none): one small file read, or a metadata call."""
        ...

    def write_marks(self, marks: dict) -> None:
        """Keep `marks` where `read_marks` finds them without opening Chroma, when there is such a place."""
        ...

    def stamp(self, generation: str) -> str:
        """`generation` when it alone tells whether a copy of the index is current (no Chroma call); else ''."""
        ...

    def forget(self) -> None:
        """Let the next client see another process's writes (Chroma caches one client per folder)."""
        ...


def _chroma_settings() -> Any:
    import chromadb

    return chromadb.Settings(anonymized_telemetry=False)


class EmbeddedChroma:
    """A `PersistentClient` on INDEX_DIR, opened on first use: reading a missing index must not create it.

    Its marks (generation, sources, last ingest) are also kept in MARKS_FILE beside
    Chroma's files, so a running UI notices another process's ingest by reading one small
    file, the retrieval cache is found without opening Chroma at all, and a rebuild can
    still read the sources when Chroma's own files are too damaged to open.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)
        self.local = True
        self._client: Any = None

    def client(self, create: bool) -> Any:
        """The `PersistentClient`, opened once; an unopenable folder is an `IndexCorruptError`."""
        if self._client is None:
            import chromadb

            if not create and not (self.path / "chroma.sqlite3").exists():
                raise IndexMissingError(self.where)
            self.path.mkdir(parents=True, exist_ok=True)
            try:
                self._client = chromadb.PersistentClient(path=str(self.path), settings=_chroma_settings())
            except Exception as err:
                _forget_embedded_client(self.path)
                raise IndexCorruptError(self.where, f"Chroma cannot open it: {err}") from err
        return self._client

    def failure(self, err: Exception) -> AssistantError:
        """A local index that fails a call is broken (there is no server to be away)."""
        return IndexCorruptError(self.where, str(err))

    def drop(self, names: Sequence[str]) -> None:
        """Delete the whole folder (the marks file too) rather than ask Chroma, which may not open it."""
        _forget_embedded_client(self.path)
        shutil.rmtree(self.path, ignore_errors=True)
        self._client = None

    def read_marks(self, stories_collection: str) -> dict:
        """The marks file's contents; {} when it is missing or unreadable (an index older than it, or torn)."""
        try:
            return json.loads((self.path / MARKS_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def write_marks(self, marks: dict) -> None:
        """Replace the marks file in one rename, so a reader in another process never sees half of it."""
        path = self.path / MARKS_FILE
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(marks), encoding="utf-8")
        partial.replace(path)

    def stamp(self, generation: str) -> str:
        """The generation, while Chroma's database file still starts like one (else '': open it and see)."""
        try:
            with (self.path / "chroma.sqlite3").open("rb") as f:
                sound = f.read(len(SQLITE_HEADER)) == SQLITE_HEADER
        except OSError:
            return ""
        return generation if sound else ""

    def forget(self) -> None:
        """Drop Chroma's cached client for the folder without stopping it: other threads may still be reading."""
        _forget_embedded_client(self.path, stop=False)


class ChromaServer:
    """An `HttpClient` on CHROMA_HOST:CHROMA_PORT, connected at once; marks live in the collection metadata."""

    def __init__(self, host: str, port: int) -> None:
        import chromadb

        self.where = f"Chroma server {host}:{port}"
        self.local = False
        try:
            self._client = chromadb.HttpClient(host=host, port=port, settings=_chroma_settings())
        except Exception as err:  # chromadb raises plain ValueError/ConnectionError here
            raise StoreUnavailableError(
                f"Cannot reach the {self.where} ({err}). Start it with "
                f"`chroma run --host {host} --port {port}` or unset CHROMA_HOST."
            ) from err

    def client(self, create: bool) -> Any:
        """The `HttpClient` made at connection; a server creates collections on demand, so `create` is moot."""
        return self._client

    def failure(self, err: Exception) -> AssistantError:
        """A failed call to the server is taken as the server being away or failing, not the index being broken."""
        return StoreUnavailableError(f"The {self.where} failed: {err}")

    def drop(self, names: Sequence[str]) -> None:
        """Delete each collection the server has; a missing one is already dropped."""
        for name in names:
            with contextlib.suppress(Exception):  # absent already
                self._client.delete_collection(name)

    def read_marks(self, stories_collection: str) -> dict:
        """The marks from the stories collection's metadata, `sources` decoded from its JSON string."""
        try:
            meta = self._client.get_collection(stories_collection).metadata or {}
        except Exception:  # no collection yet, or the server is away: nothing recorded
            return {}
        marks = {k: meta[k] for k in ("generation", "last_ingest") if k in meta}
        return marks | {"sources": json.loads(meta.get("sources") or "[]")}

    def write_marks(self, marks: dict) -> None:
        """Nothing beyond the collection metadata `_stamp_ingest` has written."""

    def stamp(self, generation: str) -> str:
        """'': other clients of the server may change it, so only its story records can tell."""
        return ""

    def forget(self) -> None:
        """Nothing: a server client sees every write."""


def connect(settings: Settings) -> Chroma:
    """The one place the embedded-or-server choice is made."""
    match settings.store.chroma_host:
        case "":
            return EmbeddedChroma(settings.paths.index_dir)
        case host:
            return ChromaServer(host, settings.store.chroma_port)


class StoryStore:
    """The stories and chunks in Chroma: ingest writes them, `snapshot` and `dense_search` read them."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings
        self.embedder = embedder
        self.chroma = connect(settings)
        self.where = self.chroma.where
        self._chunks: Any = None
        self._stories: Any = None

    # -- connection -------------------------------------------------------------------
    def _names(self) -> tuple[str, str]:
        prefix = self.settings.store.collection
        return f"{prefix}_chunks", f"{prefix}_stories"

    def _expected_metadata(self) -> dict:
        return {"schema_version": SCHEMA_VERSION, "embedding": self.embedder.name}

    def _open(self, create: bool) -> None:
        if self._chunks is not None:
            return
        client = self.chroma.client(create)
        chunk_name, story_name = self._names()
        try:
            if create:
                meta = self._expected_metadata()
                kwargs = {"configuration": {"hnsw": {"space": "cosine"}}, "metadata": meta}
                chunks = client.get_or_create_collection(chunk_name, **kwargs)
                stories = client.get_or_create_collection(story_name, **kwargs)
            else:
                names = {getattr(c, "name", c) for c in client.list_collections()}
                if chunk_name not in names or story_name not in names:
                    raise IndexMissingError(self.where)
                chunks = client.get_collection(chunk_name)
                stories = client.get_collection(story_name)
        except (IndexMissingError, IndexCorruptError):
            raise
        except Exception as err:
            raise self.chroma.failure(err) from err
        self._check_version(chunks.metadata or {})
        self._chunks, self._stories = chunks, stories
        from llama_index.vector_stores.chroma import ChromaVectorStore

        self.vector_store = ChromaVectorStore(chroma_collection=chunks)

    def _check_version(self, meta: dict) -> None:
        expected = self._expected_metadata()
        if meta.get("schema_version") != SCHEMA_VERSION:
            raise IndexCorruptError(self.where, f"index format {meta.get('schema_version')}, expected {SCHEMA_VERSION}")
        if meta.get("embedding") != expected["embedding"]:
            raise IndexCorruptError(
                self.where,
                f"built with embeddings {meta.get('embedding')!r}, settings ask for {expected['embedding']!r}",
            )

    def reset(self) -> None:
        """Drop both collections (`ingest --rebuild`). Works on an index too broken to open."""
        self._chunks = self._stories = None
        self.chroma.drop(self._names())

    # -- ingest -----------------------------------------------------------------------
    def ingest(
        self, paths: Sequence[Path], rebuild: bool = False, progress: Callable[[IngestProgress], None] | None = None
    ) -> IngestReport:
        """Add, replace or drop the stories of `paths`; a rebuild starts afresh from every source ever ingested.

        Files are read, parsed and chunked first, so `progress` can say how much embedding
        is left (stories, chunks, rate, time left) while the chunks are embedded.
        """
        began = time.perf_counter()
        report = IngestReport()
        paths = list(paths)
        if rebuild:
            paths = self._every_source(paths, report)
            self.reset()
        self._open(create=True)
        self._sweep_orphans()
        existing = self._stories_by_source()
        files, passed_over = scan_files(paths)
        report.skipped += passed_over
        plans, seen_sources = self._plan(files, existing, report)
        tracker = IngestProgress(sum(len(p.stories) for p in plans), sum(p.chunk_count for p in plans))
        for plan in plans:
            report.stories_removed += self._remove_stories([m["story_id"] for m in existing.get(plan.source, [])])
            for story, chunks in plan.stories:
                report.chunks_added += self._add_story(story, chunks, plan.digest, len(plan.stories))
                report.stories_added += 1
                tracker.advance(plan.source, len(chunks))
                if progress:
                    progress(tracker)
        for src, metas in existing.items():
            if src not in seen_sources and self._is_under(src, paths):
                report.stories_removed += self._remove_stories([m["story_id"] for m in metas])
        if report.stories_added or report.stories_removed:
            self._relink_translations()
        self._stamp_ingest(
            [source_name(p) for p in paths], changed=bool(report.stories_added or report.stories_removed)
        )
        report.seconds = time.perf_counter() - began
        return report

    def _plan(
        self, files: list[Path], existing: dict[str, list[dict]], report: IngestReport
    ) -> tuple[list[FilePlan], set[str]]:
        """What each new or changed file adds: its stories (ids unique across sources) and their chunks."""
        plans: list[FilePlan] = []
        seen_sources: set[str] = set()
        owners = {m["story_id"]: src for src, metas in existing.items() for m in metas}
        for path in files:
            src = source_name(path)
            if src in seen_sources:
                continue  # a link inside the folder to a file already read
            report.files_seen += 1
            seen_sources.add(src)
            try:
                text = read_story_file(path, shown_as=src)
            except UnreadableFileError as err:
                report.skipped.append((src, str(err).split(": ", 1)[-1]))
                continue
            digest = hashlib.sha256(text.encode()).hexdigest()
            old = existing.get(src, [])
            if old and all(m["file_hash"] == digest and m["file_story_count"] == len(old) for m in old):
                report.files_unchanged += 1
                continue
            stories = self._own_ids(parse_text(text, src), src, owners)
            if not stories:
                report.skipped.append((src, "no story text found"))
                continue
            size = self.settings.embedding.chunk_tokens
            chunked = [(s, chunk_story(s, size, self.embedder.count_tokens)) for s in stories]
            plans.append(FilePlan(src, digest, chunked))
        return plans, seen_sources

    def _own_ids(self, stories: list[Story], src: str, owners: dict[str, str]) -> list[Story]:
        """Uploads get ids of their own, and no file may take over a story id another file holds.

        A story's id hashes its file name, title and date, so an upload (or another folder's
        file) named like a bundled file, with the same title and date, used to replace the
        bundled story in the index.
        """
        out = []
        for story in stories:
            sid = story.story_id
            if origin_of(src, self.settings) == "upload":
                sid = f"upload-{sid}"
            if owners.get(sid, src) != src:
                sid = f"{sid}-{hashlib.sha1(src.encode()).hexdigest()[:6]}"
            owners[sid] = src
            out.append(story if sid == story.story_id else replace(story, story_id=sid))
        return out

    def _every_source(self, paths: list[Path], report: IngestReport) -> list[Path]:
        """For a rebuild: `paths`, the bundled corpus, the uploads and every source the index recorded."""
        wanted = [*paths, self.settings.paths.corpus_dir]
        if self.settings.paths.uploads_dir.is_dir():
            wanted.append(self.settings.paths.uploads_dir)
        for src in self.recorded_sources():
            path = source_path(src)
            if path.exists():
                wanted.append(path)
            else:
                report.skipped.append((src, "was ingested before but is gone; dropped from the index's sources"))
        unique: dict[str, Path] = {}
        for p in wanted:
            unique.setdefault(source_name(p), p)
        return list(unique.values())

    def remove_sources(self, sources: Sequence[str]) -> int:
        """Drop every story of these sources (files, or folders and everything under them) and forget them."""
        self._open(create=False)
        roots = [source_path(s).resolve() for s in sources]
        doomed = [
            m["story_id"]
            for src, metas in self._stories_by_source().items()
            for m in metas
            if any(source_path(src) == r or r in source_path(src).parents for r in roots)
        ]
        removed = self._remove_stories(doomed)
        if removed:
            self._relink_translations()
        self._stamp_ingest([], changed=bool(removed), forget=list(sources))
        return removed

    @staticmethod
    def _is_under(src: str, roots: Sequence[Path]) -> bool:
        path = source_path(src)
        for root in roots:
            r = root.resolve()
            if path == r or (r.is_dir() and r in path.parents):
                return not path.exists()
        return False

    def _stories_by_source(self) -> dict[str, list[dict]]:
        got = self._stories.get(include=["metadatas"])
        out: dict[str, list[dict]] = {}
        for sid, meta in zip(got["ids"], got["metadatas"], strict=True):
            out.setdefault(meta["source"], []).append(meta | {"story_id": sid})
        return out

    def _sweep_orphans(self) -> None:
        story_ids = set(self._stories.get(include=[])["ids"])
        chunk_meta = self._chunks.get(include=["metadatas"])
        orphans = [
            cid
            for cid, m in zip(chunk_meta["ids"], chunk_meta["metadatas"], strict=True)
            if m["story_id"] not in story_ids
        ]
        if orphans:
            log.info("removing %d chunks left by an interrupted ingest", len(orphans))
            self._chunks.delete(ids=orphans)

    def _remove_stories(self, story_ids: list[str]) -> int:
        if not story_ids:
            return 0
        self._stories.delete(ids=story_ids)  # the commit marker goes first
        for sid in story_ids:
            self.vector_store.delete(ref_doc_id=sid)
        return len(story_ids)

    def _add_story(self, story: Story, chunks: list[Chunk], file_hash: str, file_story_count: int) -> int:
        vectors = self.embedder.passages([embedding_text(story, c) for c in chunks])
        nodes: list[BaseNode] = [self._node(story, c, v) for c, v in zip(chunks, vectors, strict=True)]
        self.vector_store.add(nodes)
        mean = vectors.mean(axis=0)
        mean /= np.linalg.norm(mean) or 1.0
        meta = _story_metadata(story) | {"file_hash": file_hash, "file_story_count": file_story_count}
        self._stories.upsert(ids=[story.story_id], embeddings=[mean.tolist()], documents=[story.text], metadatas=[meta])
        return len(chunks)

    @staticmethod
    def _node(story: Story, chunk: Chunk, vector: np.ndarray) -> TextNode:
        from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

        meta = _story_metadata(story) | {"story_id": story.story_id, "chunk_index": chunk.index}
        meta |= {"start": chunk.start, "end": chunk.end}
        node = TextNode(
            id_=chunk.chunk_id,
            text=chunk.text,
            metadata=meta,
            embedding=vector.tolist(),
            excluded_embed_metadata_keys=list(meta),
            excluded_llm_metadata_keys=list(meta),
            relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=story.story_id)},
        )
        return node

    def _relink_translations(self) -> None:
        got = self._stories.get(include=["metadatas", "embeddings", "documents"])
        stories = _stories_from(got)
        vectors = {sid: np.asarray(v) for sid, v in zip(got["ids"], got["embeddings"], strict=True)}
        linked = link_translations(stories, lambda a, b: float(vectors[a.story_id] @ vectors[b.story_id]))
        for before, after in zip(stories, linked, strict=True):
            if before.translation_of != after.translation_of:
                meta = dict(got["metadatas"][got["ids"].index(after.story_id)])
                meta["translation_of"] = after.translation_of
                self._stories.update(ids=[after.story_id], metadatas=[meta])

    def _stamp_ingest(self, sources: Sequence[str], changed: bool, forget: Sequence[str] = ()) -> None:
        """Record when, which sources the index holds, and (when stories changed) a new generation.

        Kept in the stories collection's metadata and, for an embedded index, in a small
        file beside Chroma's (MARKS_FILE; see `EmbeddedChroma`).
        """
        marks = self.marks()
        recorded = [s for s in marks["sources"] if s not in forget]
        recorded += [s for s in sources if s not in recorded and s not in forget]
        if changed or not marks["generation"]:
            marks["generation"] = f"{int(marks['generation'].split('-')[0] or 0) + 1}-{uuid.uuid4().hex[:8]}"
        marks["sources"] = recorded
        marks["last_ingest"] = datetime.now(UTC).isoformat(timespec="seconds")
        meta = dict(self._stories.metadata or {})
        meta |= {
            "last_ingest": marks["last_ingest"],
            "generation": marks["generation"],
            "sources": json.dumps(recorded),
        }
        self._stories.modify(metadata=meta)
        self.chroma.write_marks(marks)

    def marks(self) -> dict:
        """{'generation': '3-1a2b3c4d', 'sources': [...], 'last_ingest': ...}; empty values when unknown.

        Embedded: one small file read (tens of microseconds), cheap enough before every answer.
        Server: the collection's metadata, fetched fresh.
        """
        empty = {"generation": "", "sources": [], "last_ingest": ""}
        return empty | self.chroma.read_marks(self._names()[1])

    def generation(self) -> str:
        """Changes whenever an ingest or a removal changes the stories, in this process or another."""
        return self.marks()["generation"]

    def cheap_stamp(self) -> str:
        """What identifies the stories' state without opening Chroma (the generation), or '' when nothing can."""
        return self.chroma.stamp(self.generation())

    @property
    def searches_locally(self) -> bool:
        """True for an embedded index: its vectors may be copied and searched in memory."""
        return self.chroma.local

    def recorded_sources(self) -> list[str]:
        """Every folder or file ever ingested into this index (as `source_name`), uploads folder included."""
        return list(self.marks()["sources"])

    def reopened(self) -> StoryStore:
        """A fresh connection that sees another process's writes (Chroma caches vectors per client).

        The old client is left to finish in-flight queries on other threads and is then
        garbage-collected; only the registry entry is dropped so the next client is new.
        """
        self.chroma.forget()
        return StoryStore(self.settings, self.embedder)

    # -- reading ----------------------------------------------------------------------
    def fingerprint(self, *extra: object) -> str:
        """A hash of every story record (and `extra` settings): equal fingerprints, equal snapshots.

        A story's record is written after its chunks and deleted before them, so the set of
        records decides which chunks a snapshot holds; reading 1,800 records is cheap where
        reading 17,000 chunk records is not.
        """
        self._open(create=False)
        try:
            got = self._stories.get(include=["metadatas"])
        except Exception as err:
            raise IndexCorruptError(self.where, f"reading failed: {err}") from err
        body = json.dumps(sorted(zip(got["ids"], got["metadatas"], strict=True)), sort_keys=True, default=str)
        head = json.dumps([SCHEMA_VERSION, self.embedder.name, self.where, *map(str, extra)])
        return hashlib.sha256(f"{head}|{body}".encode()).hexdigest()[:32]

    def last_ingest(self) -> str:
        """When an ingest last stamped the index: from its marks, else (an index older than them) from Chroma."""
        stamped = self.marks()["last_ingest"]
        if stamped:
            return stamped
        self._open(create=False)
        return (self._stories.metadata or {}).get("last_ingest", "")

    def snapshot(self) -> Snapshot:
        """Every story with a record and its chunks, ordered by file and position; orphan chunks are left out."""
        self._open(create=False)
        try:
            got = self._stories.get(include=["metadatas", "documents"])
            stories = {s.story_id: s for s in _stories_from(got)}
            raw = self._chunks.get(include=["metadatas"])
        except Exception as err:
            raise IndexCorruptError(self.where, f"reading failed: {err}") from err
        if not stories:
            raise IndexMissingError(self.where)
        chunks = []
        for cid, meta in zip(raw["ids"], raw["metadatas"], strict=True):
            story = stories.get(meta["story_id"])
            if story is None:
                continue  # orphan of an interrupted ingest
            start, end = int(meta["start"]), int(meta["end"])
            chunk = Chunk(cid, story.story_id, int(meta["chunk_index"]), start, end, story.text[start:end])
            chunks.append(StoredChunk(chunk, story))
        chunks.sort(key=lambda c: (c.story.source, c.story.start, c.chunk.index))
        return Snapshot(stories, chunks, self.last_ingest())

    def chunk_vectors(self, chunk_ids: Sequence[str]) -> np.ndarray:
        """The stored vectors of these chunks, one row each in the order given (float32)."""
        self._open(create=False)
        try:
            got = self._chunks.get(ids=list(chunk_ids), include=["embeddings"])
        except Exception as err:
            raise IndexCorruptError(self.where, f"reading failed: {err}") from err
        rows = dict(zip(got["ids"], got["embeddings"], strict=True))
        return np.asarray([rows[cid] for cid in chunk_ids], dtype=np.float32).reshape(len(chunk_ids), -1)

    def dense_search(self, vector: np.ndarray, k: int, filters: Filters = Filters()) -> list[tuple[str, float]]:
        """(chunk_id, cosine similarity) best first, through llama-index's Chroma vector store."""
        from llama_index.core.vector_stores.types import VectorStoreQuery

        self._open(create=False)
        count = self._chunks.count()
        if count == 0:
            return []
        query = VectorStoreQuery(
            query_embedding=vector.tolist(), similarity_top_k=min(k, count), filters=chroma_filters(filters)
        )
        result = self.vector_store.query(query)
        ids, similarities = result.ids or [], result.similarities or []  # a query by vector sets both
        # ChromaVectorStore reports exp(-distance); with cosine space, distance = 1 - cos.
        return [(nid, 1.0 + float(np.log(max(sim, 1e-12)))) for nid, sim in zip(ids, similarities, strict=True)]


def _forget_embedded_client(path: Path, stop: bool = True) -> None:
    """Chroma keeps one client per folder for the whole process; drop ours so a rebuilt folder is reopened."""
    from chromadb.api.shared_system_client import SharedSystemClient

    systems = SharedSystemClient._identifier_to_system
    for key in [k for k in systems if k == str(path)]:
        if stop:
            with contextlib.suppress(Exception):
                systems[key].stop()
        systems.pop(key, None)
        SharedSystemClient._identifier_to_refcount.pop(key, None)


def chroma_filters(filters: Filters) -> MetadataFilters | None:
    """`filters` as Chroma-side metadata filters (what `Filters.admits` checks in memory)."""
    return build_filters(
        date_int(filters.date_from) or None, date_int(filters.date_to) or None, filters.language, filters.story_ids
    )


def build_filters(
    date_from: int | None = None, date_to: int | None = None, language: str = "", story_ids: Sequence[str] = ()
) -> MetadataFilters | None:
    """Chroma-side metadata filters; dates are YYYYMMDD integers (0 = undated)."""
    from llama_index.core.vector_stores.types import FilterOperator, MetadataFilter, MetadataFilters

    items: list[MetadataFilter | MetadataFilters] = []  # the element type MetadataFilters(filters=...) takes
    if date_from:
        items.append(MetadataFilter(key="date_int", value=date_from, operator=FilterOperator.GTE))
    if date_to:
        items.append(MetadataFilter(key="date_int", value=date_to, operator=FilterOperator.LTE))
        items.append(MetadataFilter(key="date_int", value=0, operator=FilterOperator.GT))
    if language:
        items.append(MetadataFilter(key="language", value=language, operator=FilterOperator.EQ))
    if story_ids:
        items.append(MetadataFilter(key="story_id", value=list(story_ids), operator=FilterOperator.IN))
    return MetadataFilters(filters=items) if items else None


def _story_metadata(story: Story) -> dict:
    return {
        "title": story.title,
        "date": story.date or "",
        "date_int": date_int(story.date),
        "kind": story.kind,
        "language": story.language,
        "source": story.source,
        "file_start": story.start,
        "file_end": story.end,
        "site": story.site,
        "translation_of": story.translation_of,
    }


def _stories_from(got: dict) -> list[Story]:
    """The stories of a stories-collection `get` that included documents and metadatas."""
    return [_story_from_record(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)]


def _story_from_record(story_id: str, text: str, meta: dict) -> Story:
    return Story(
        story_id=story_id,
        title=meta["title"],
        date=meta["date"] or None,
        kind=meta["kind"],
        language=meta["language"],
        source=meta["source"],
        text=text,
        start=int(meta["file_start"]),
        end=int(meta["file_end"]),
        site=meta.get("site", ""),
        translation_of=meta.get("translation_of", ""),
    )
