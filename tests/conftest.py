"""Shared fixtures: one index of the bundled corpus per test session, built by the real pipeline, and a tiny
hand-written corpus indexed with the hash embedder (well under a second) for tests of mechanics."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant import netutil
from assistant.config import PROJECT_ROOT, Settings, load_settings
from assistant.netutil import free_port
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


# Four short stories, one a file, in the three languages the assistant reads. Each holds a word no other does
# ("heliostat", "Sauran", "скважин", "тоғай"), so a test knows which story a question must find.
TINY_STORIES = {
    "solar.txt": """Solar heliostat field powers schools in Kyzylorda

Mar 15, 2021

A heliostat field of 400 mirrors now heats and lights twelve village schools in Kyzylorda region. \
The Ministry of Energy and UNDP opened the plant on 15 March 2021. \
Each school saves about 9,000 dollars a year on coal, according to the regional akimat.
""",
    "coding.txt": """Young women learn to code at the Sauran hub

Jul 10, 2023

The Sauran digital hub in Shymkent taught 250 young women to write software in 2023. \
The hub was launched by UNICEF and the city akimat on 10 July 2023. \
Graduates built a mobile app that reports broken street lights to the city.
""",
    "water.txt": """Чистая вода для сёл Алматинской области

20 мая 2022

В Алматинской области пробурили 35 новых скважин для сельских школ. \
Проект запустили ПРООН и местный акимат 20 мая 2022 года. \
Теперь чистую воду получают более 6 000 детей.
""",
    "forest.txt": """Арал өңірінде сексеуіл тоғайы отырғызылды

12 қаңтар 2024

Арал теңізінің құрғаған табанында 500 гектар сексеуіл тоғайы отырғызылды. \
Жобаны БҰҰДБ мен орман шаруашылығы комитеті 2024 жылы бастады.
""",
}
TINY_ENV = {"EMBEDDING_BACKEND": "hash"}  # every settings or process that opens a tiny index must say so


def write_tiny_corpus(folder: Path) -> Path:
    """The four tiny stories as files in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in TINY_STORIES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def tiny_settings(root: Path, **env: str) -> Settings:
    """Settings for an index under `root` embedded with the hash embedder."""
    return make_settings(root, **TINY_ENV | env)


@pytest.fixture
def tiny_corpus(tmp_path) -> Path:
    """The four tiny stories in a fresh folder a test may change (ingest them with `tiny_settings`)."""
    return write_tiny_corpus(tmp_path / "stories")


def ingested(root: Path, settings: Settings, folder: Path) -> Path:
    """`root`, once `folder` is ingested into the index under it that `settings` name."""
    Assistant.from_settings(settings).ingest([folder])
    return root


def copied(root: Path, to: Path, *folders: str) -> Path:
    """`to`, holding a copy of these folders of `root`.

    Copy "index-cache" beside "index" when the copy will answer: it holds the reader's sentence vectors
    (keyed by sentence text), which a copy without it embeds again at its first answer (~20 s for the
    bundled corpus), to the same vectors.
    """
    for name in folders:
        shutil.copytree(root / name, to / name)
    return to


@pytest.fixture(scope="session")
def tiny_index(tmp_path_factory) -> Path:
    """A folder holding a hash-embedded index of the four tiny stories (ingested once, well under a second)."""
    root = tmp_path_factory.mktemp("tiny-index")
    return ingested(root, tiny_settings(root), write_tiny_corpus(root / "stories"))


@pytest.fixture(scope="session")
def tiny_assistant(tiny_index) -> Assistant:
    """The offline assistant over the tiny corpus (read-only: do not ingest into it)."""
    return Assistant.from_settings(tiny_settings(tiny_index))


@pytest.fixture
def tiny_index_copy(tiny_index, tmp_path) -> Path:
    """A private copy of the tiny index (and its story files) that a test may change."""
    return copied(tiny_index, tmp_path, "index", "stories")


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory) -> Path:
    """A folder holding an index of data/corpus and its sentence vectors (`index-cache`), built once (~40 s)."""
    root = tmp_path_factory.mktemp("corpus-index")
    return ingested(root, make_settings(root), CORPUS)


@pytest.fixture(scope="session")
def assistant(corpus_index) -> Assistant:
    """The offline assistant over the bundled corpus (read-only: do not ingest into it)."""
    return Assistant.from_settings(make_settings(corpus_index))


@pytest.fixture
def index_copy(corpus_index, tmp_path) -> Path:
    """A private copy of the corpus index that a test may change."""
    return copied(corpus_index, tmp_path, "index", "index-cache")


@pytest.fixture
def small_corpus(tmp_path) -> Path:
    """Two short single-story files, quick to embed."""
    folder = tmp_path / "stories"
    folder.mkdir()
    for name in ("002_2beb8d086b7d9575.txt", "003_2c06ceceba27ef83.txt"):
        shutil.copy(CORPUS / name, folder / name)
    return folder


def wait_for_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 90) -> None:
    """Block until something listens on 127.0.0.1:port; fail with the process output if it died."""
    if netutil.wait_for_port(port, timeout, proc):
        return
    if proc.poll() is not None:
        out = proc.stdout.read() if proc.stdout else ""
        pytest.fail(f"{what} exited before listening: {out}")
    proc.kill()
    pytest.fail(f"{what} did not listen on port {port} within {timeout:.0f} s")


@contextlib.contextmanager
def running_ui(root: Path, index_from: Path | None = None, args: tuple[str, ...] = (), command: str = "ui", **env: str):
    """`assistant ui` (or `serve`) in a subprocess on a free port (loopback unless `args` say otherwise).

    Yields (url, process)."""
    if index_from is not None:
        copied(index_from, root, "index", "index-cache")
    port = free_port()
    full_env = (
        os.environ
        | {
            "INDEX_DIR": str(root / "index"),
            "UPLOADS_DIR": str(root / "uploads"),
            "FEEDBACK_FILE": str(root / "feedback.jsonl"),
            "ANSWERER": "offline",
            "OPENAI_BASE_URL": "",
            "OPENAI_API_KEY": "",
            "GRADIO_ANALYTICS_ENABLED": "False",
        }
        | env
    )
    cli = [sys.executable, "-m", "assistant.cli", "--env-file", str(root / "none.env")]
    proc = subprocess.Popen(
        [*cli, command, "--no-ingest", "--port", str(port), *args],
        env=full_env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_port(port, proc, f"assistant {command}")
        yield f"http://127.0.0.1:{port}", proc
    finally:
        proc.terminate()
        proc.wait(timeout=20)
