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
import stat
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
from llama_index.core.vector_stores.types import (
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
)
from llama_index.vector_stores.chroma import ChromaVectorStore

from .chunks import Chunk, chunk_story, embedding_text
from .config import PROJECT_ROOT, Settings
from .display import count
from .embeddings import Embedder
from .errors import IndexCorruptError, IndexMissingError, StoreUnavailableError, UnreadableFileError
from .stories import Story, link_translations, parse_text

log = logging.getLogger(__name__)
SCHEMA_VERSION = 1
SUFFIXES = (".txt", ".md")
MAX_FILE_BYTES = 20_000_000
MARKS_FILE = "assistant-index.json"  # beside Chroma's files: generation and recorded sources


@dataclass
class IngestReport:
    files_seen: int = 0
    files_unchanged: int = 0
    stories_added: int = 0
    stories_removed: int = 0
    chunks_added: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        text = (
            f"{count(self.files_seen, 'file')}: {self.files_unchanged} unchanged, "
            f"{count(self.stories_added, 'story', 'stories')} added ({count(self.chunks_added, 'chunk')}), "
            f"{self.stories_removed} removed, in {self.seconds:.1f}s"
        )
        for path, reason in self.skipped:
            text += f"\n  skipped {path}: {reason}"
        return text


@dataclass(frozen=True)
class StoredChunk:
    chunk: Chunk
    story: Story


@dataclass
class Snapshot:
    """Everything retrieval needs, read once from the store."""

    stories: dict[str, Story]
    chunks: list[StoredChunk]
    last_ingest: str

    def chunk_by_id(self) -> dict[str, StoredChunk]:
        return {c.chunk.chunk_id: c for c in self.chunks}


@dataclass
class FilePlan:
    """A new or changed file: its stories, each with its chunks, ready to embed."""

    source: str
    digest: str
    stories: list[tuple[Story, list[Chunk]]]

    @property
    def chunk_count(self) -> int:
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
        return (self.chunks_total - self.chunks_done) / self.rate if self.rate else 0.0

    def __str__(self) -> str:
        done = self.stories_done == self.stories_total
        left = "done" if done else f"about {_duration(self.seconds_left)} left"
        return (
            f"{self.stories_done}/{count(self.stories_total, 'story', 'stories')}, "
            f"{self.chunks_done}/{count(self.chunks_total, 'chunk')}, {self.rate:.1f} chunks/s, {left}"
        )


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds} s" if seconds < 90 else f"{seconds // 60} min {seconds % 60:02d} s"


def source_path(src: str) -> Path:
    """The file or folder a stored source name stands for."""
    return Path(src) if Path(src).is_absolute() else PROJECT_ROOT / src


def origin_of(src: str, settings: Settings) -> str:
    """'upload' (added through the web UI), 'corpus' (the bundled stories) or 'folder' (added with `ingest PATH`)."""
    path = source_path(src).resolve()
    for origin, root in (("upload", settings.paths.uploads_dir), ("corpus", settings.paths.corpus_dir)):
        r = root.resolve()
        if path == r or r in path.parents:
            return origin
    return "folder"


def source_name(path: Path) -> str:
    """Paths inside the project are stored relative to it, so every clone agrees on them."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return resolved.as_posix()


def read_story_file(path: Path, max_bytes: int = MAX_FILE_BYTES, shown_as: str | None = None) -> str:
    """The text of a story file, or an `UnreadableFileError` that says why not (naming it `shown_as`).

    Opened without blocking and checked to be a regular file on the open descriptor, so a
    FIFO or device is refused instead of hanging the ingest, even if it replaced a file
    after the folder was listed.
    """
    path = Path(path)
    shown = shown_as or str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as err:
        raise UnreadableFileError(f"{shown}: cannot be read ({err.strerror or err})") from err
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFileError(f"{shown}: is {file_kind(info.st_mode)}, not a regular file")
        if info.st_size > max_bytes:
            raise UnreadableFileError(f"{shown}: {info.st_size:,} bytes is over the {max_bytes:,}-byte limit")
        try:
            data = f.read(max_bytes + 1)
        except OSError as err:
            raise UnreadableFileError(f"{shown}: cannot be read ({err.strerror or err})") from err
    if len(data) > max_bytes:
        raise UnreadableFileError(f"{shown}: is over the {max_bytes:,}-byte limit")
    return decode_story_bytes(data, shown)


BOMS = [(b"\xff\xfe\x00\x00", "UTF-32 (little-endian)"), (b"\x00\x00\xfe\xff", "UTF-32 (big-endian)"),
        (b"\xff\xfe", "UTF-16 (little-endian)"), (b"\xfe\xff", "UTF-16 (big-endian)")]  # fmt: skip


def decode_story_bytes(data: bytes, shown: str) -> str:
    """UTF-8 text, or an error naming the encoding the bytes look like and asking for UTF-8."""
    wide = wide_encoding(data)
    if wide:
        raise UnreadableFileError(f"{shown}: is {wide} text; stories must be UTF-8. Re-save it as UTF-8")
    if b"\x00" in data:
        raise UnreadableFileError(f"{shown}: looks binary (contains NUL bytes), not a text story")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise UnreadableFileError(
            f"{shown}: is not UTF-8 text (byte {err.start:,} is not UTF-8; {legacy_encoding(data)}). "
            "Re-save it as UTF-8"
        ) from err


def wide_encoding(data: bytes) -> str:
    """'UTF-16 (little-endian)' and the like when `data` is UTF-16/32 text, by its BOM or its zero bytes; else ''."""
    for bom, name in BOMS:
        if data.startswith(bom):
            return name
    if b"\x00" not in data or len(data) < 4:
        return ""
    for codec, name in (("utf-16-le", "UTF-16 (little-endian, no byte-order mark)"),
                        ("utf-16-be", "UTF-16 (big-endian, no byte-order mark)")):  # fmt: skip
        try:
            text = data[: len(data) // 2 * 2].decode(codec)
        except UnicodeDecodeError:
            continue
        plain = sum(1 for ch in text if ch in "\n\r\t" or (ch.isprintable() and ord(ch) < 0x0530))
        if plain >= 0.9 * len(text):
            return name
    return ""


def legacy_encoding(data: bytes) -> str:
    """A guess at the 8-bit encoding of text that is not UTF-8, in words."""
    text = data.decode("cp1251", errors="replace")
    letters = [ch for ch in text if ch.isalpha()]
    cyrillic = sum("CYRILLIC" in unicodedata.name(ch, "") for ch in letters)
    if letters and cyrillic >= 0.5 * len(letters):
        return "it looks like Windows-1251 (Cyrillic)"
    return "it may be Windows-1252 or Latin-1"


def file_kind(mode: int) -> str:
    kinds = [(stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a folder")]  # fmt: skip
    return next((name for test, name in kinds if test(mode)), "a special file")


def find_files(paths: Iterable[Path]) -> list[Path]:
    return scan_files(paths)[0]


def scan_files(paths: Iterable[Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """The story files in `paths`, and (name, reason) for each one passed over.

    Inside a folder, a link is followed only when it stays inside that folder (a link to
    /etc/passwd is reported and skipped), and only regular files are read. A file named
    on the command line is taken as named.
    """
    found: list[Path] = []
    skipped: list[tuple[str, str]] = []
    for p in paths:
        if p.is_dir():
            files, passed_over = _scan_folder(p)
            found += files
            skipped += passed_over
        elif p.exists() and not p.is_file():
            skipped.append((_shown_name(p), f"is {file_kind(p.stat().st_mode)}, not a regular file"))
        else:
            found.append(p)
    return found, skipped


def _scan_folder(folder: Path) -> tuple[list[Path], list[tuple[str, str]]]:
    root = folder.resolve()
    found, skipped = [], []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        here = Path(dirpath)
        dirnames.sort()
        for name in [d for d in dirnames if (here / d).is_symlink()]:
            if not _inside(here / name, root):
                skipped.append(
                    (_shown_name(here / name), f"links to a folder outside {_shown_name(folder)}; not followed")
                )
        for name in sorted(filenames):
            path = here / name
            if path.suffix.lower() not in SUFFIXES:
                continue
            reason = _why_not_a_story_file(path, root, folder)
            if reason:
                skipped.append((_shown_name(path), reason))
            else:
                found.append(path)
    return found, skipped


def _why_not_a_story_file(path: Path, root: Path, folder: Path) -> str:
    """'' for a regular file inside `root` (itself or through a link that stays inside); else the reason."""
    if path.is_symlink() and not _inside(path, root):
        return f"links outside {_shown_name(folder)} (to {path.resolve()}); not followed"
    try:
        mode = path.stat().st_mode
    except OSError as err:
        return f"cannot be read ({err.strerror or err})"
    return "" if stat.S_ISREG(mode) else f"is {file_kind(mode)}, not a regular file"


def _inside(path: Path, root: Path) -> bool:
    target = path.resolve()
    return target == root or root in target.parents


def _shown_name(path: Path) -> str:
    """A path as the report shows it: relative to the project when inside it, links not resolved."""
    return f"{source_name(path.parent)}/{path.name}"


class StoryStore:
    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings
        self.embedder = embedder
        self.where = self._describe()
        self._client = self._connect()
        self._chunks = None
        self._stories = None

    # -- connection -------------------------------------------------------------------
    def _describe(self) -> str:
        st = self.settings.store
        if st.chroma_host:
            return f"Chroma server {st.chroma_host}:{st.chroma_port}"
        return str(self.settings.paths.index_dir)

    def _connect(self):
        import chromadb

        st = self.settings.store
        chroma_settings = chromadb.Settings(anonymized_telemetry=False)
        if st.chroma_host:
            try:
                return chromadb.HttpClient(host=st.chroma_host, port=st.chroma_port, settings=chroma_settings)
            except Exception as err:  # chromadb raises plain ValueError/ConnectionError here
                raise StoreUnavailableError(
                    f"Cannot reach the {self.where} ({err}). Start it with "
                    f"`chroma run --host {st.chroma_host} --port {st.chroma_port}` or unset CHROMA_HOST."
                ) from err
        return None  # embedded client is opened lazily: reading a missing index must not create it

    def _embedded_client(self, create: bool):
        import chromadb

        path = self.settings.paths.index_dir
        if not create and not (path / "chroma.sqlite3").exists():
            raise IndexMissingError(str(path))
        path.mkdir(parents=True, exist_ok=True)
        try:
            return chromadb.PersistentClient(path=str(path), settings=chromadb.Settings(anonymized_telemetry=False))
        except Exception as err:
            _forget_embedded_client(path)
            raise IndexCorruptError(str(path), f"Chroma cannot open it: {err}") from err

    def _names(self) -> tuple[str, str]:
        prefix = self.settings.store.collection
        return f"{prefix}_chunks", f"{prefix}_stories"

    def _expected_metadata(self) -> dict:
        return {"schema_version": SCHEMA_VERSION, "embedding": self.embedder.name}

    def _open(self, create: bool) -> None:
        if self._chunks is not None:
            return
        client = self._client or self._embedded_client(create)
        self._client = client
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
            if self.settings.store.chroma_host:
                raise StoreUnavailableError(f"The {self.where} failed: {err}") from err
            raise IndexCorruptError(self.where, str(err)) from err
        self._check_version(chunks.metadata or {})
        self._chunks, self._stories = chunks, stories
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
        if not self.settings.store.chroma_host:
            import shutil

            _forget_embedded_client(self.settings.paths.index_dir)
            shutil.rmtree(self.settings.paths.index_dir, ignore_errors=True)
            self._client = None
            return
        for name in self._names():
            with contextlib.suppress(Exception):  # absent already
                self._client.delete_collection(name)

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

    def _plan(self, files: list[Path], existing: dict[str, list[dict]], report: IngestReport):
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
        path = Path(src) if Path(src).is_absolute() else PROJECT_ROOT / src
        for root in roots:
            r = root.resolve()
            if path == r or (r.is_dir() and r in path.parents):
                return not path.exists()
        return False

    def _stories_by_source(self) -> dict[str, list[dict]]:
        got = self._stories.get(include=["metadatas"])
        out: dict[str, list[dict]] = {}
        for sid, meta in zip(got["ids"], got["metadatas"]):
            out.setdefault(meta["source"], []).append(meta | {"story_id": sid})
        return out

    def _sweep_orphans(self) -> None:
        story_ids = set(self._stories.get(include=[])["ids"])
        chunk_meta = self._chunks.get(include=["metadatas"])
        orphans = [cid for cid, m in zip(chunk_meta["ids"], chunk_meta["metadatas"]) if m["story_id"] not in story_ids]
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
        nodes = [self._node(story, c, v) for c, v in zip(chunks, vectors)]
        self.vector_store.add(nodes)
        mean = vectors.mean(axis=0)
        mean /= np.linalg.norm(mean) or 1.0
        meta = _story_metadata(story) | {"file_hash": file_hash, "file_story_count": file_story_count}
        self._stories.upsert(ids=[story.story_id], embeddings=[mean.tolist()], documents=[story.text], metadatas=[meta])
        return len(chunks)

    @staticmethod
    def _node(story: Story, chunk: Chunk, vector: np.ndarray) -> TextNode:
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
        stories = [_story_from_record(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])]
        vectors = {sid: np.asarray(v) for sid, v in zip(got["ids"], got["embeddings"])}
        linked = link_translations(stories, lambda a, b: float(vectors[a.story_id] @ vectors[b.story_id]))
        for before, after in zip(stories, linked):
            if before.translation_of != after.translation_of:
                meta = dict(got["metadatas"][got["ids"].index(after.story_id)])
                meta["translation_of"] = after.translation_of
                self._stories.update(ids=[after.story_id], metadatas=[meta])

    def _stamp_ingest(self, sources: Sequence[str], changed: bool, forget: Sequence[str] = ()) -> None:
        """Record when, which sources the index holds, and (when stories changed) a new generation.

        Kept in the stories collection's metadata and, for an embedded index, in a small
        file beside Chroma's (MARKS_FILE): a running UI reads that file before each answer
        to notice another process's ingest, and a rebuild can still read the sources when
        Chroma's own files are too damaged to open.
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
        if not self.settings.store.chroma_host:
            path = self.settings.paths.index_dir / MARKS_FILE
            partial = path.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(json.dumps(marks), encoding="utf-8")
            partial.replace(path)

    def marks(self) -> dict:
        """{'generation': '3-1a2b3c4d', 'sources': [...], 'last_ingest': ...}; empty values when unknown.

        Embedded: one small file read (tens of microseconds), cheap enough before every answer.
        Server: the collection's metadata, fetched fresh.
        """
        empty = {"generation": "", "sources": [], "last_ingest": ""}
        if not self.settings.store.chroma_host:
            try:
                return empty | json.loads((self.settings.paths.index_dir / MARKS_FILE).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return empty
        try:
            meta = self._client.get_collection(self._names()[1]).metadata or {}
            return empty | {k: meta[k] for k in ("generation", "last_ingest") if k in meta} | {
                "sources": json.loads(meta.get("sources") or "[]")}  # fmt: skip
        except Exception:  # no collection yet, or the server is away: nothing recorded
            return empty

    def generation(self) -> str:
        """Changes whenever an ingest or a removal changes the stories, in this process or another."""
        return self.marks()["generation"]

    def recorded_sources(self) -> list[str]:
        """Every folder or file ever ingested into this index (as `source_name`), uploads folder included."""
        return list(self.marks()["sources"])

    def reopened(self) -> StoryStore:
        """A fresh connection that sees another process's writes (Chroma caches vectors per client).

        The old client is left to finish in-flight queries on other threads and is then
        garbage-collected; only the registry entry is dropped so the next client is new.
        """
        if not self.settings.store.chroma_host:
            _forget_embedded_client(self.settings.paths.index_dir, stop=False)
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
        body = json.dumps(sorted(zip(got["ids"], got["metadatas"])), sort_keys=True, default=str)
        head = json.dumps([SCHEMA_VERSION, self.embedder.name, self.where, *map(str, extra)])
        return hashlib.sha256(f"{head}|{body}".encode()).hexdigest()[:32]

    def last_ingest(self) -> str:
        self._open(create=False)
        return (self._stories.metadata or {}).get("last_ingest", "")

    def snapshot(self) -> Snapshot:
        self._open(create=False)
        try:
            got = self._stories.get(include=["metadatas", "documents"])
            stories = {
                i: _story_from_record(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])
            }
            raw = self._chunks.get(include=["metadatas"])
        except Exception as err:
            raise IndexCorruptError(self.where, f"reading failed: {err}") from err
        if not stories:
            raise IndexMissingError(self.where)
        chunks = []
        for cid, meta in zip(raw["ids"], raw["metadatas"]):
            story = stories.get(meta["story_id"])
            if story is None:
                continue  # orphan of an interrupted ingest
            start, end = int(meta["start"]), int(meta["end"])
            chunk = Chunk(cid, story.story_id, int(meta["chunk_index"]), start, end, story.text[start:end])
            chunks.append(StoredChunk(chunk, story))
        chunks.sort(key=lambda c: (c.story.source, c.story.start, c.chunk.index))
        return Snapshot(stories, chunks, self.last_ingest())

    def dense_search(self, vector: np.ndarray, k: int, filters: MetadataFilters | None) -> list[tuple[str, float]]:
        """(chunk_id, cosine similarity) best first, through llama-index's Chroma vector store."""
        self._open(create=False)
        count = self._chunks.count()
        if count == 0:
            return []
        query = VectorStoreQuery(query_embedding=vector.tolist(), similarity_top_k=min(k, count), filters=filters)
        result = self.vector_store.query(query)
        # ChromaVectorStore reports exp(-distance); with cosine space, distance = 1 - cos.
        return [(nid, 1.0 + float(np.log(max(sim, 1e-12)))) for nid, sim in zip(result.ids, result.similarities)]


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


def build_filters(
    date_from: int | None = None, date_to: int | None = None, language: str = "", story_ids: Sequence[str] = ()
) -> MetadataFilters | None:
    """Chroma-side metadata filters; dates are YYYYMMDD integers (0 = undated)."""
    items: list[MetadataFilter] = []
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


def date_int(iso: str | None) -> int:
    return int(iso.replace("-", "")) if iso else 0


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
