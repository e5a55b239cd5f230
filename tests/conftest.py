"""Shared fixtures: one index of the bundled corpus per test session, built by the real pipeline."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.config import PROJECT_ROOT, Settings, load_settings
from assistant.pipeline import Assistant

CORPUS = PROJECT_ROOT / "data" / "corpus"


def make_settings(tmp: Path, **env: str) -> Settings:
    base = {
        "INDEX_DIR": str(tmp / "index"),
        "UPLOADS_DIR": str(tmp / "uploads"),
        "FEEDBACK_FILE": str(tmp / "feedback.jsonl"),
        "ANSWERER": "offline",
    }
    return load_settings(env_file=None, environ=base | env)


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory) -> Path:
    """A folder holding an index of data/corpus (ingested once, ~20 s)."""
    root = tmp_path_factory.mktemp("corpus-index")
    assistant = Assistant.from_settings(make_settings(root))
    assistant.ingest([CORPUS])
    return root


@pytest.fixture(scope="session")
def assistant(corpus_index) -> Assistant:
    """The offline assistant over the bundled corpus (read-only: do not ingest into it)."""
    return Assistant.from_settings(make_settings(corpus_index))


@pytest.fixture
def index_copy(corpus_index, tmp_path) -> Path:
    """A private copy of the corpus index that a test may change."""
    shutil.copytree(corpus_index / "index", tmp_path / "index")
    return tmp_path


@pytest.fixture
def small_corpus(tmp_path) -> Path:
    """Two short single-story files, quick to embed."""
    folder = tmp_path / "stories"
    folder.mkdir()
    for name in ("002_2beb8d086b7d9575.txt", "003_2c06ceceba27ef83.txt"):
        shutil.copy(CORPUS / name, folder / name)
    return folder
