from itertools import pairwise

from assistant.chunks import chunk_story, embedding_text, estimate_tokens, split_sentences
from assistant.embeddings import make_embedder
from assistant.stories import parse_text
from tests.conftest import CORPUS, make_settings


def listing_stories():
    name = "001_39b3ef53bbcef721.txt"
    return parse_text((CORPUS / name).read_text(encoding="utf-8"), name)


def test_sentences_keep_exact_offsets():
    for story in listing_stories():
        for s in split_sentences(story.text):
            assert story.text[s.start : s.end] == s.text


def test_sentence_splitter_respects_quotes_and_abbreviations():
    text = (
        'Almaty hosted "Reuse. Recycle. Reduce" today. Mr. Jankauskas spoke. “We act. We lead.” Then H.E. Armida left.'
    )
    assert [s.text for s in split_sentences(text)] == [
        'Almaty hosted "Reuse. Recycle. Reduce" today.',
        "Mr. Jankauskas spoke.",
        "“We act. We lead.”",
        "Then H.E. Armida left.",
    ]


def test_chunks_fit_the_embedding_window_and_stay_in_their_story(tmp_path):
    embedder = make_embedder(make_settings(tmp_path))
    for story in listing_stories():
        chunks = chunk_story(story, 160, embedder.count_tokens)
        assert chunks[0].start == 0 and chunks[-1].end == len(story.text)
        for c in chunks:
            assert c.story_id == story.story_id
            assert story.text[c.start : c.end] == c.text
            assert embedder.count_tokens(c.text) <= 160 or len(split_sentences(c.text)) == 1
            assert embedder.count_tokens(embedding_text(story, c)) <= 512
        # consecutive chunks overlap or touch: only white space may lie between them
        for a, b in pairwise(chunks):
            assert b.start <= a.end or story.text[a.end : b.start].strip() == ""


def test_a_huge_sentence_is_split_at_words():
    story = parse_text("Title\n1 May 2024\n" + "word " * 2000 + ".", "huge.txt")[0]
    chunks = chunk_story(story, 100, estimate_tokens)
    assert len(chunks) > 10
    assert all(estimate_tokens(c.text) <= 100 for c in chunks)


def test_chunk_ids_are_stable():
    story = listing_stories()[3]
    assert [c.chunk_id for c in chunk_story(story)] == [c.chunk_id for c in chunk_story(story)]
