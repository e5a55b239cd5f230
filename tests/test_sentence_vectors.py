"""The reader's sentence vectors: embedded once when the index loads, kept on disk, looked up while answering."""

import numpy as np

from assistant.embeddings import HashEmbedder
from assistant.pipeline import Assistant
from assistant.sentence_vectors import SentenceVectors
from tests.conftest import copied, tiny_settings


class CountingEmbedder(HashEmbedder):
    """The hash embedder, counting the passages it is asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.embedded: list[str] = []

    def passages(self, texts):
        self.embedded += list(texts)
        return super().passages(texts)


def test_prepare_embeds_only_what_is_missing_and_the_file_carries_them(tmp_path):
    path = tmp_path / "sentences.pickle"
    first = SentenceVectors(CountingEmbedder(), path)
    assert first.prepare(["One sentence here.", "Another one there.", "One sentence here."]) == 2
    assert path.exists() and len(first) == 2
    again = SentenceVectors(counting := CountingEmbedder(), path)
    assert again.prepare(["One sentence here.", "Another one there."]) == 0 and counting.embedded == []
    expected = HashEmbedder().passages(["Another one there."])[0]
    assert np.array_equal(again.vectors(["Another one there."])[0], expected) and counting.embedded == []


def test_sentences_no_story_holds_are_dropped_and_new_ones_embedded(tmp_path):
    path = tmp_path / "sentences.pickle"
    SentenceVectors(HashEmbedder(), path).prepare(["Old sentence.", "Kept sentence."])
    vectors = SentenceVectors(counting := CountingEmbedder(), path)
    assert vectors.prepare(["Kept sentence.", "New sentence."]) == 1 and counting.embedded == ["New sentence."]
    assert len(SentenceVectors(HashEmbedder(), path)) == 2


def test_an_unreadable_file_is_rebuilt(tmp_path):
    path = tmp_path / "sentences.pickle"
    path.write_bytes(b"not a pickle")
    assert SentenceVectors(HashEmbedder(), path).prepare(["A sentence."]) == 1
    assert len(SentenceVectors(HashEmbedder(), path)) == 1


def test_answers_look_sentences_up_instead_of_embedding_them(tiny_index, tmp_path):
    root = copied(tiny_index, tmp_path, "index", "stories")
    settings = tiny_settings(root)
    loading = Assistant(settings, CountingEmbedder(), Assistant.from_settings(settings).store, chat=None)
    assert loading.retriever.snapshot.stories  # the first load embeds every prose sentence of the stories, once
    assert loading.embedder.embedded
    asking = Assistant(settings, counting := CountingEmbedder(), loading.store, chat=None)
    answer = asking.ask("Where are the heliostat mirrors?")
    assert answer.citations and counting.embedded == [], "a warm index embeds only the question"
