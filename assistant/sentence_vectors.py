"""The reader's sentence vectors: every prose sentence of the stories embedded once, kept beside the index.

The offline reader compares the question with its best sentences (and, across languages,
with every sentence of the best passages). Embedding those sentences while the user waits
was most of an answer's time; embedding them all when the index is loaded after an ingest,
and keeping them in a file keyed by the sentence text, makes that a lookup. The file is
derived data: deleted or unreadable, it is rebuilt; a sentence no story holds any more is
dropped when the stories are prepared again.
"""

from __future__ import annotations

import logging
import os
import pickle
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .embeddings import Embedder

__all__ = ["BATCH", "SentenceVectors"]

log = logging.getLogger(__name__)

BATCH = 32  # sentences embedded per call when the stories are prepared


class SentenceVectors:
    """Sentence text -> its passage vector under one embedder, computed once and stored in `path` (if given)."""

    def __init__(self, embedder: Embedder, path: Path | None = None) -> None:
        self.embedder = embedder
        self.path = path
        self._table: dict[str, np.ndarray] = self._read() if path is not None else {}

    def __len__(self) -> int:
        """How many sentences have a vector."""
        return len(self._table)

    def vectors(self, texts: Sequence[str]) -> list[np.ndarray]:
        """The vector of each text, embedding (and remembering, in memory) the ones not seen yet."""
        self._embed([t for t in dict.fromkeys(texts) if t not in self._table])
        return [self._table[t] for t in texts]

    def prepare(self, texts: Iterable[str]) -> int:
        """Hold exactly the vectors of `texts` (the stories' sentences now), embed the missing, save; how many new."""
        wanted = list(dict.fromkeys(texts))
        missing = [t for t in wanted if t not in self._table]
        stale = len(self._table) - (len(wanted) - len(missing))
        for start in range(0, len(missing), BATCH):
            self._embed(missing[start : start + BATCH])
        self._table = {t: self._table[t] for t in wanted}
        if missing or stale:
            self._write()
        return len(missing)

    def _embed(self, texts: Sequence[str]) -> None:
        if texts:
            for text, vector in zip(texts, self.embedder.passages(list(texts)), strict=True):
                self._table[text] = vector

    def _read(self) -> dict[str, np.ndarray]:
        assert self.path is not None
        try:
            with self.path.open("rb") as f:
                table = pickle.load(f)
        except FileNotFoundError:
            return {}
        except Exception as err:  # torn or foreign: start again
            log.warning("ignoring unreadable sentence vectors %s: %s", self.path, err)
            return {}
        if not isinstance(table, dict):
            log.warning("ignoring foreign sentence vectors %s", self.path)
            return {}
        return table

    def _write(self) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_suffix(f".{os.getpid()}.tmp")
            partial.write_bytes(pickle.dumps(self._table, protocol=pickle.HIGHEST_PROTOCOL))
            partial.replace(self.path)
        except OSError as err:
            log.warning("could not write the sentence vectors %s: %s", self.path, err)
