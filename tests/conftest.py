"""Shared fixtures: one index of the bundled corpus per test session, built by the real pipeline."""

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
        shutil.copytree(index_from / "index", root / "index")
    port = free_port()
    full_env = os.environ | {
        "INDEX_DIR": str(root / "index"), "UPLOADS_DIR": str(root / "uploads"),
        "FEEDBACK_FILE": str(root / "feedback.jsonl"), "ANSWERER": "offline", "OPENAI_BASE_URL": "",
        "OPENAI_API_KEY": "", "GRADIO_ANALYTICS_ENABLED": "False",
    } | env  # fmt: skip
    cli = [sys.executable, "-m", "assistant.cli", "--env-file", str(root / "none.env")]
    proc = subprocess.Popen([*cli, command, "--no-ingest", "--port", str(port), *args], env=full_env, cwd=PROJECT_ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        wait_for_port(port, proc, f"assistant {command}")
        yield f"http://127.0.0.1:{port}", proc
    finally:
        proc.terminate()
        proc.wait(timeout=20)
