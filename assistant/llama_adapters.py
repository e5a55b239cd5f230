"""Thin adapters that let llama-index use this package's stages (imported only by who needs llama-index).

The product's ask path never imports llama-index (1.2 s of imports); the naive peer
and anyone building a llama-index query engine on the assistant's retrieval do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
from pydantic import PrivateAttr

if TYPE_CHECKING:
    from .embeddings import Embedder
    from .retrieve import HybridRetriever

__all__ = ["LlamaIndexEmbedding", "LlamaIndexRetriever"]


class LlamaIndexEmbedding(BaseEmbedding):
    """Adapts an `Embedder` to llama-index, so its retrievers and indexes can use it."""

    _embedder: Any = PrivateAttr()

    def __init__(self, embedder: Embedder, **kwargs: Any) -> None:
        super().__init__(model_name=embedder.name, embed_batch_size=32, **kwargs)
        self._embedder = embedder

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._embedder.query(query).tolist()

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._embedder.passages([text])[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._embedder.passages(texts).tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)


class LlamaIndexRetriever(BaseRetriever):
    """A `HybridRetriever` as a llama-index retriever: each piece of evidence as a scored `TextNode`."""

    def __init__(self, retriever: HybridRetriever) -> None:
        super().__init__()
        self.retriever = retriever

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        result = self.retriever.search(query_bundle.query_str)
        return [
            NodeWithScore(
                node=TextNode(
                    id_=ev.chunk.chunk_id,
                    text=ev.chunk.text,
                    metadata={"story_id": ev.story.story_id, "title": ev.story.title},
                ),
                score=ev.score,
            )
            for ev in result.evidence
        ]
