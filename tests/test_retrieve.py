from collections import Counter
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from assistant.chunks import Chunk
from assistant.embeddings import HashEmbedder
from assistant.retrieve import (
    BM25,
    Filters,
    HybridRetriever,
    RetrievalIndex,
    bm25_index,
    condense,
    date_hint,
    retrieval_query,
    topic_of,
)
from assistant.types import Snapshot, StoredChunk

from .reader_fixtures import STORY


def test_bm25_prefers_rare_matching_terms():
    bm = BM25([["alliance", "launch"], ["summit", "launch"], ["summit", "summit", "media"]])
    scores = bm.scores(["alliance", "launch"])
    assert max(scores, key=scores.get) == 0
    assert 2 not in scores


def test_date_hints():
    june = date_hint("What was launched in June 2023?")
    assert (june.start, june.end) == (date(2023, 6, 1), date(2023, 8, 11))  # + six weeks for publication lag
    year = date_hint("What did UNDP discuss in 2016?")
    assert (year.start, year.end.year) == (date(2016, 1, 1), 2017)
    assert date_hint("What is the latest story about the SDGs?").recent
    assert date_hint("How many targets are on track by 2030?") == date_hint("plain question")


def test_condense_replaces_pronouns_with_the_earlier_topic():
    history = [
        {"role": "user", "content": "Who launched the Central Asian Alliance?"},
        {"role": "assistant", "content": "It was launched under the Spotlight Initiative [1]."},
    ]
    assert condense("When was it launched?", history) == "When was the Central Asian Alliance launched?"
    assert condense("How many attended its launch event?", history).startswith(
        "How many attended the Central Asian Alliance's launch"
    )
    standalone = "How many companies from Kazakhstan are members of the UN Global Compact?"
    assert condense(standalone, history) == standalone
    assert condense("When was it launched?", []) == "When was it launched?"
    assert topic_of("What did President Tokayev propose at the Astana International Forum?") == (
        "Astana International Forum"
    )


def test_search_returns_fused_evidence_with_story_cap(assistant):
    r = assistant.retriever.search("Who launched the Central Asian Alliance?")
    assert "Central Asian Alliance" in r.evidence[0].story.title
    per_story = {}
    for ev in r.evidence:
        per_story[ev.story.story_id] = per_story.get(ev.story.story_id, 0) + 1
    assert max(per_story.values()) <= assistant.settings.retrieval.max_per_story  # no bundled story is that long
    assert [ev.rank for ev in r.evidence] == list(range(1, len(r.evidence) + 1))


def corpus_retriever(**sizes: int) -> HybridRetriever:
    """A retriever (BM25 alone) over stories of the given numbers of passages.

    The first ten passages of each story say "orchard"; the story named "article" says "orchard notes", so
    for that query its passages rank first, in passage order (BM25 breaks ties by position: its lead is
    among them and does not join as one more), then the other stories' "orchard" passages.
    """
    stories, items = {}, []
    for name, n in sizes.items():
        story = replace(STORY, story_id=name, title=name)
        stories[name] = story
        for i in range(n):
            text = f"orchard {'notes' if name == 'article' else 'news'} {i}" if i < 10 else f"filler {i}"
            items.append(StoredChunk(Chunk(f"{name}-{i:03d}", name, i, 0, len(text), text), story))
    snapshot = Snapshot(stories, items, "")
    index = RetrievalIndex(snapshot, bm25_index(snapshot))
    return HybridRetriever(index, HashEmbedder(), dense=lambda vector, k, filters: [], top_k=6, max_per_story=3)


def stories_of(retrieval) -> Counter:
    return Counter(ev.story.story_id for ev in retrieval.evidence)


def test_a_long_document_may_give_more_passages_but_leaves_a_place_for_another_story():
    retriever = corpus_retriever(article=75, news=20, short=2)
    assert [retriever.story_cap(name, 6) for name in ("article", "news", "short")] == [5, 3, 3]
    assert retriever.story_cap("article", 12) == 7  # one passage for each ten it holds
    assert retriever.story_cap("article", 1) == 3  # never below the cap, whatever top_k
    assert stories_of(retriever.search("orchard notes")) == {"article": 5, "news": 1}
    assert stories_of(retriever.search("orchard notes", per_story=1, top_k=2)) == {"article": 1, "news": 1}
    with pytest.raises(ValueError, match="per_story"):
        retriever.search("orchard notes", per_story=0)


def test_a_place_no_other_story_can_fill_goes_back_to_the_document():
    alone = corpus_retriever(article=75)
    assert stories_of(alone.search("orchard notes")) == {"article": 6}
    assert stories_of(alone.search("orchard notes", per_story=2)) == {"article": 2}  # a strict limit stays strict


def test_news_stories_keep_the_cap():
    retriever = corpus_retriever(news=39, short=20)  # 20 passages: the longest bundled story
    assert retriever.story_cap("news", 6) == 3 and retriever.story_cap("short", 6) == 3
    assert retriever.story_cap("news", 30) == 3
    assert corpus_retriever(news=40).story_cap("news", 6) == 4


def test_filters_limit_language_and_dates(assistant):
    kk = assistant.retriever.search("UNDP working session", Filters(language="kk"))
    assert kk.evidence and {ev.story.language for ev in kk.evidence} == {"kk"}
    old = assistant.retriever.search("Sustainable Development Goals", Filters(date_to="2017-01-01"))
    assert old.evidence and all(ev.story.date <= "2017-01-01" for ev in old.evidence)
    none = assistant.retriever.search("Sustainable Development Goals", Filters(date_from="2030-01-01"))
    assert none.evidence == []


def test_year_in_question_prefers_stories_of_that_year(assistant):
    r = assistant.retriever.search("Who was the UN Resident Coordinator in Kazakhstan in 2016?")
    assert r.evidence[0].story.date.startswith("2016")


def test_cross_language_question_finds_english_story(assistant):
    r = assistant.retriever.search("Кто запустил Центральноазиатский альянс?")
    assert "Central Asian Alliance" in r.evidence[0].story.title


DENSE_QUESTIONS = [
    "Who launched the Central Asian Alliance?",
    "Қазақстандағы БҰҰ өкілі кім?",
    "What did the Prime Minister discuss with UNDP?",
    "Сколько пациентов получили помощь?",
    "climate change adaptation in agriculture",
]


def test_in_memory_dense_search_matches_chroma(assistant):
    """The cached index searches its vectors in numpy: the same chunks, order and cosines as Chroma's HNSW."""
    index, store = assistant.retriever.index, assistant.store
    assert index.vectors is not None and index.vectors.shape[0] == len(index.snapshot.chunks)
    for filters in (Filters(), Filters(language="kk"), Filters(date_from="2023-07-01", date_to="2023-12-31")):
        for q in DENSE_QUESTIONS:
            vector = assistant.embedder.query(q)
            ours, chroma = index.dense_search(vector, 30, filters), store.dense_search(vector, 30, filters)
            assert [cid for cid, _ in ours] == [cid for cid, _ in chroma], (q, filters)
            assert all(abs(a - b) < 1e-5 for (_, a), (_, b) in zip(ours, chroma, strict=True))


def test_retrieval_index_loads_from_cache_without_opening_chroma(corpus_index):
    """A warm start reads the marks file and the cache: no Chroma client, no llama-index."""
    import subprocess
    import sys

    environ = {"INDEX_DIR": str(corpus_index / "index"), "ANSWERER": "offline"}
    probe = (
        "import sys\nfrom assistant.config import load_settings\nfrom assistant.pipeline import Assistant\n"
        f"Assistant.from_settings(load_settings(env_file=None, environ={environ!r})).retriever\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'chromadb', 'llama_index'}))"
    )
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]"


def test_llama_index_adapter_returns_the_same_evidence(assistant):
    question = "Who launched the Central Asian Alliance?"
    nodes = assistant.retriever.as_llama_index().retrieve(question)
    evidence = assistant.retriever.search(question).evidence
    assert [n.node.node_id for n in nodes] == [ev.chunk.chunk_id for ev in evidence]
    assert nodes[0].node.metadata["title"] == evidence[0].story.title


# -- on the tiny hash-embedded corpus: mechanics, in milliseconds ---------------------------------------------------
def test_search_finds_the_one_story_holding_a_rare_word(tiny_assistant):
    rare = {
        "Where are the heliostat mirrors?": "Solar heliostat field",
        "Сколько скважин пробурили?": "Чистая вода",
        "Тоғай қайда?": "Арал өңірінде",
    }
    for question, title in rare.items():
        evidence = tiny_assistant.retriever.search(question).evidence
        assert evidence[0].story.title.startswith(title), question
        assert [ev.rank for ev in evidence] == list(range(1, len(evidence) + 1))


def test_filters_keep_only_stories_of_that_language_and_those_dates(tiny_assistant):
    def found(**filters: str) -> set[str]:
        evidence = tiny_assistant.retriever.search("schools water", Filters(**filters)).evidence
        return {Path(ev.story.source).name for ev in evidence}

    assert found(language="ru") == {"water.txt"}
    assert found(date_from="2023-01-01") == {"coding.txt", "forest.txt"}
    assert found(date_to="2021-12-31") == {"solar.txt"}
    assert found(date_from="2022-01-01", date_to="2022-12-31", language="en") == set()


def test_a_follow_up_is_retrieved_with_the_previous_question_and_a_new_question_alone():
    history = [
        {"role": "user", "content": "How much have glaciers in Central Asia shrunk?"},
        {"role": "assistant", "content": "By 30% [1]."},
    ]
    follow_up = "Over what span of time did that happen?"
    assert (
        retrieval_query(follow_up, follow_up, history) == f"{follow_up} How much have glaciers in Central Asia shrunk?"
    )
    standalone = "How many schools did UNICEF build in Kyzylorda?"
    assert retrieval_query(standalone, standalone, history) == standalone
    assert retrieval_query(follow_up, follow_up, []) == follow_up


def test_a_turn_is_searched_as_ask_and_train_reader_search_it(assistant):
    """`search_turn`, which both call, searches with `retrieval_query`: the vector the reader reads is of it too."""
    history = [{"role": "user", "content": "How much have glaciers in Central Asia shrunk?"}]
    follow_up = "Over what span of time did that happen?"
    turn = assistant.retriever.search_turn(follow_up, follow_up, history, Filters())
    assert turn.query == retrieval_query(follow_up, follow_up, history)
    assert turn.query_vector.tolist() == assistant.retriever.search(turn.query).query_vector.tolist()
