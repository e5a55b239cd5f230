"""The naive peer: what a user builds with llama-index defaults, for side-by-side figures.

SimpleDirectoryReader -> SentenceSplitter (1024 tokens) -> VectorStoreIndex on an
in-memory Chroma collection -> vector top-2 -> the single sentence most similar to the
question as the answer, cited to its file. Same embedding model as the assistant, so
the comparison isolates the pipeline. It never abstains: nothing in it decides to.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex
from llama_index.core.node_parser import SentenceSplitter
from llama_index.vector_stores.chroma import ChromaVectorStore

from ..chunks import split_sentences
from ..config import Settings
from ..embeddings import make_embedder
from ..llama_adapters import LlamaIndexEmbedding
from ..results import Answer, Citation
from ..stories import Story
from ..types import Snapshot


class NaiveAssistant:
    """The naive pipeline over `corpus_dir` (default: the configured corpus folder), built in memory when created.

    It answers through the same `ask` -> `Answer` interface as `Assistant`, and keeps a `snapshot`
    of whole files as stories, so the eval grades its citations exactly as it grades the product's.
    """

    name = "naive"

    def __init__(self, settings: Settings, corpus_dir: Path | None = None) -> None:
        import chromadb

        self.embedder = make_embedder(settings)
        folder = corpus_dir or settings.paths.corpus_dir
        documents = SimpleDirectoryReader(str(folder), required_exts=[".txt", ".md"]).load_data()
        client = chromadb.EphemeralClient(settings=chromadb.Settings(anonymized_telemetry=False))
        collection = client.create_collection(f"naive-{uuid.uuid4().hex[:8]}")
        storage = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection))
        self.index = VectorStoreIndex.from_documents(
            documents,
            storage_context=storage,
            embed_model=LlamaIndexEmbedding(self.embedder),
            transformations=[SentenceSplitter(chunk_size=1024, chunk_overlap=200)],
        )
        self.chunk_count = collection.count()
        self.retriever = self.index.as_retriever(similarity_top_k=2)
        self.files = {d.metadata["file_name"]: d.text for d in documents}
        stories = {
            name: Story(name, name, None, "File", "en", name, text, 0, len(text)) for name, text in self.files.items()
        }
        self.snapshot = Snapshot(stories, [], "")

    def ask(self, question: str, history: Sequence[dict] = ()) -> Answer:
        """The retrieved sentence most similar to `question`, cited to its file; "No answer." when there is none.

        `history` is accepted for the eval's sake and ignored: the naive pipeline has no follow-up questions.
        """
        began = time.perf_counter()
        nodes = self.retriever.retrieve(question)
        best = None
        q = self.embedder.query(question)
        for n in nodes:
            name = n.node.metadata["file_name"]
            text = self.files[name]
            offset = text.find(n.node.get_content())
            sentences = [s for s in split_sentences(n.node.get_content()) if len(s.text.split()) >= 4]
            if not sentences:
                continue
            sims = self.embedder.passages([s.text for s in sentences]) @ q
            i = int(np.argmax(sims))
            if best is None or sims[i] > best[0]:
                s = sentences[i]
                best = (float(sims[i]), name, max(offset, 0) + s.start, max(offset, 0) + s.end, s.text)
        citations, text = [], "No answer."
        if best:
            _, name, start, end, quote = best
            citations = [Citation(1, name, name, None, "File", "en", name, quote, start, end)]
            text = f"{quote} [1]"
        retrieved = [
            {
                "rank": i + 1,
                "story_id": n.node.metadata["file_name"],
                "title": n.node.metadata["file_name"],
                "score": round(float(n.score or 0), 5),
            }
            for i, n in enumerate(nodes)
        ]
        latency_ms = (time.perf_counter() - began) * 1000
        return Answer(question, question, text, False, citations, "naive", latency_ms, retrieved=retrieved)
