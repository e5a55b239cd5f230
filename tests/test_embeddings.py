"""Embedders: the hash fake is deterministic and ranks by shared words; e5 embeds queries and passages apart."""

import numpy as np
import pytest

from assistant.config import load_settings
from assistant.embeddings import E5Embedder, HashEmbedder, make_embedder

SOLAR = "A heliostat field of 400 mirrors heats and lights twelve village schools in Kyzylorda."
CODING = "The Sauran digital hub in Shymkent taught 250 young women to write software."


def test_hash_embedder_gives_the_same_vector_in_every_process():
    """CRC32, not Python's `hash` (salted afresh in each process): the vector of a text is fixed for good."""
    vector = HashEmbedder(dim=6).query("solar")
    assert np.allclose(vector, [0.866, 0.0, -0.4082, -0.2041, -0.2041, 0.0], atol=1e-4)
    assert np.array_equal(HashEmbedder().query(SOLAR), HashEmbedder().query(SOLAR))


def test_hash_vectors_are_unit_length_of_the_stated_size():
    embedder = HashEmbedder(dim=64)
    vectors = embedder.passages([SOLAR, CODING, ""])
    assert vectors.shape == (3, 64) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    assert embedder.passages([]).shape == (0, 64)
    assert np.array_equal(embedder.query(SOLAR), embedder.passages([SOLAR])[0])


def test_hash_similarity_follows_shared_words_on_e5s_scale():
    embedder = HashEmbedder()
    query = embedder.query("Which schools does the heliostat field heat?")
    solar, coding = embedder.passages([SOLAR, CODING])
    assert query @ solar > query @ coding
    assert embedder.query("heliostat mirrors") @ embedder.query("heliostats mirror") > 0.85  # word parts count too
    unrelated = embedder.query("qwerty zxcvb") @ embedder.query("плов лагман")
    assert 0.7 < unrelated < 0.8  # the baseline cosine, where e5 puts unrelated texts


def test_hash_embedder_counts_tokens_and_is_picked_by_the_setting():
    embedder = make_embedder(load_settings(env_file=None, environ={"EMBEDDING_BACKEND": "hash"}))
    assert isinstance(embedder, HashEmbedder) and embedder.name == "hash-256"
    assert 0 < embedder.count_tokens("one two") < embedder.count_tokens(SOLAR)


@pytest.fixture(scope="module")
def e5() -> E5Embedder:
    return E5Embedder()


def test_e5_embeds_unit_vectors_of_its_dimension(e5):
    vectors = e5.passages([SOLAR, CODING])
    assert vectors.shape == (2, e5.dim) and e5.dim == 384
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    assert e5.passages([]).shape == (0, e5.dim)


def test_e5_embeds_a_query_apart_from_the_same_text_as_a_passage(e5):
    """e5 prefixes "query: " or "passage: "; the question still lands nearest its answer."""
    assert not np.allclose(e5.query(SOLAR), e5.passages([SOLAR])[0])
    query = e5.query("Which schools does the heliostat field heat?")
    solar, coding = e5.passages([SOLAR, CODING])
    assert query @ solar > query @ coding


def test_e5_counts_word_pieces(e5):
    assert e5.count_tokens("UNDP") >= 1
    assert e5.count_tokens(SOLAR) > len(SOLAR.split()) > 0  # numbers and long names split into several pieces
